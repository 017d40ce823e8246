"""MlflowClient's registered-model alias methods (``models:/name@alias``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracklet.tracking.client_registry_access import RegistryStoreAccess

if TYPE_CHECKING:  # the registry's entities load on first use
    from tracklet.entities.model_registry import ModelVersion


class AliasesClientMixin(RegistryStoreAccess):
    """Aliases of registered model versions, of :class:`tracklet.MlflowClient`."""

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        """Point ``alias`` at ``version`` (moving it if it named another version).

        Args:
            name: The registered model.
            alias: The alias: letters, digits, '_' and '-'; not ``latest`` nor ``v<number>``.
            version: The version number.
        """
        self._registry_store.set_registered_model_alias(name, alias, str(version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Delete an alias of a registered model.

        Args:
            name: The registered model.
            alias: The alias.
        """
        self._registry_store.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias names (``latest``: the newest version).

        Args:
            name: The registered model.
            alias: The alias.

        Returns:
            The ModelVersion.
        """
        return self._registry_store.get_model_version_by_alias(name, alias)
