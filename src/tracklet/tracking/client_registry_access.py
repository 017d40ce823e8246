"""How the registry's client mixins reach the registry store, and read ``models:/`` URIs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.store.model_registry_base import ModelRegistryStore
from tracklet.store.schemes import get_store

if TYPE_CHECKING:  # the registry's entities load on first use
    from tracklet.entities.model_registry import ModelVersion


class RegistryStoreAccess:
    """The registry store of a client's registry URI, checked once per store."""

    _registry_uri: str

    @property
    def _registry_store(self) -> ModelRegistryStore:
        store: Any = get_store(self._registry_uri)
        if store is getattr(self, "_registry_checked", None):
            return cast(ModelRegistryStore, store)
        # A Protocol isinstance check costs ~0.5 ms (one hasattr per method): once per store.
        if not isinstance(store, ModelRegistryStore):
            raise MlflowException(
                f"The store for registry URI {self._registry_uri!r} has no model registry.",
                INVALID_PARAMETER_VALUE,
            )
        self._registry_checked = store
        return store

    def _registered_model_source(self, uri: str) -> str:
        """The download URI of the registered version a ``models:/`` URI names."""
        version = self._model_version_for_uri(uri)
        return self._registry_store.get_model_version_download_uri(version.name, version.version)

    def _model_version_for_uri(self, uri: str) -> ModelVersion:
        """The registered version a ``models:/name/...`` or ``models:/name@alias`` URI names."""
        from tracklet.store.models_uri import parse_models_uri

        parsed = parse_models_uri(uri)
        store = self._registry_store
        if parsed.model_id is not None:
            raise MlflowException(
                f"Model URI {uri!r} names a logged model or no registered model: "
                "registered models are named models:/<name>/<version>, models:/<name>@<alias>, "
                "models:/<name>/latest or models:/<name>/<stage>.",
                RESOURCE_DOES_NOT_EXIST,
            )
        name = str(parsed.name)
        if parsed.version is not None:
            return store.get_model_version(name, parsed.version)
        if parsed.alias is not None:
            return store.get_model_version_by_alias(name, parsed.alias)
        latest = store.get_latest_versions(name, None if parsed.stage is None else [parsed.stage])
        if not latest:
            stage = "" if parsed.stage is None else f" and stage '{parsed.stage}'"
            raise MlflowException(
                f"No versions of model with name '{name}'{stage} found", RESOURCE_DOES_NOT_EXIST
            )
        return max(latest, key=lambda v: int(v.version))
