"""Model: the MLmodel file (flavors, signature, input example, ids) in MLflow's YAML layout;
ModelInfo: what ``log_model`` returns."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any

from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.models.environment import MLFLOW_FORMAT_VERSION
from tracklet.models.signature import ModelSignature

MLMODEL_FILE_NAME = "MLmodel"
# Keys Model keeps as attributes; anything else found in an MLmodel file is kept verbatim.
_KNOWN = (
    "artifact_path",
    "run_id",
    "utc_time_created",
    "flavors",
    "signature",
    "saved_input_example_info",
    "model_uuid",
    "mlflow_version",
    "metadata",
    "model_size_bytes",
    "model_id",
    "prompts",
    "env_vars",
    "resources",
    "auth_policy",
)


class Model:
    """An MLflow Model: the flavors it can be loaded as, and its metadata."""

    def __init__(
        self,
        artifact_path: str | None = None,
        run_id: str | None = None,
        utc_time_created: str | None = None,
        flavors: dict[str, Any] | None = None,
        signature: ModelSignature | None = None,
        saved_input_example_info: dict[str, Any] | None = None,
        model_uuid: str | None = None,
        mlflow_version: str | None = MLFLOW_FORMAT_VERSION,
        metadata: dict[str, Any] | None = None,
        model_size_bytes: int | None = None,
        model_id: str | None = None,
        prompts: list[str] | None = None,
        env_vars: list[str] | None = None,
        resources: Any = None,
        auth_policy: Any = None,
        **kwargs: Any,
    ) -> None:
        self.artifact_path = artifact_path
        self.run_id = run_id
        # Naive UTC, as MLflow writes it ('2026-11-26 06:15:18.784827').
        self.utc_time_created = str(
            utc_time_created or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        )
        self.flavors: dict[str, Any] = flavors if flavors is not None else {}
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = model_uuid if model_uuid is not None else uuid.uuid4().hex
        self.mlflow_version = mlflow_version
        self.metadata = metadata
        self.model_size_bytes = model_size_bytes
        self.model_id = model_id
        self.prompts = prompts
        self.env_vars = env_vars
        self.resources = resources
        self.auth_policy = auth_policy
        self.extra: dict[str, Any] = kwargs

    def add_flavor(self, name: str, **params: Any) -> Model:
        """Add (or replace) a flavor's configuration."""
        self.flavors[name] = params
        return self

    def get_input_schema(self) -> Any:
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Any:
        return self.signature.outputs if self.signature is not None else None

    def get_params_schema(self) -> Any:
        return self.signature.params if self.signature is not None else None

    def load_input_example(self, path: str) -> Any:
        """The model's input example, read from model directory ``path`` (None if none)."""
        from tracklet.models.input_example import load_example

        if self.saved_input_example_info is None:
            return None
        return load_example(path, self.saved_input_example_info)

    def to_dict(self) -> dict[str, Any]:
        """The MLmodel content. Null fields MLflow omits are omitted."""
        res: dict[str, Any] = {}
        if self.artifact_path is not None:
            res["artifact_path"] = self.artifact_path
        if self.run_id is not None:
            res["run_id"] = self.run_id
        res["utc_time_created"] = self.utc_time_created
        res["flavors"] = self.flavors
        if self.signature is not None:
            res["signature"] = self.signature.to_dict()
            res["is_signature_from_type_hint"] = False
            res["type_hint_from_example"] = False
        if self.saved_input_example_info is not None:
            res["saved_input_example_info"] = self.saved_input_example_info
        res["model_uuid"] = self.model_uuid
        if self.mlflow_version is not None:
            res["mlflow_version"] = self.mlflow_version
        res["model_id"] = self.model_id
        res["prompts"] = self.prompts
        for key in ("metadata", "model_size_bytes", "env_vars", "resources", "auth_policy"):
            if getattr(self, key) is not None:
                res[key] = getattr(self, key)
        res.update(self.extra)
        return res

    def to_yaml(self) -> str:
        import yaml

        # libyaml's dumper when present: the same text, several times faster than PyYAML's.
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return str(yaml.dump(self.to_dict(), Dumper=dumper, default_flow_style=False))

    def save(self, path: str) -> None:
        """Write the MLmodel file ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_yaml())

    @classmethod
    def load(cls, path: str) -> Model:
        """Read a local MLmodel file, or the MLmodel of a local model directory."""
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, MLMODEL_FILE_NAME)
        if not os.path.exists(path):
            raise MlflowException(
                f'Could not find an "{MLMODEL_FILE_NAME}" configuration file at "{path}"',
                RESOURCE_DOES_NOT_EXIST,
            )
        import yaml

        with open(path, encoding="utf-8") as f:
            return cls.from_dict(yaml.safe_load(f))

    @classmethod
    def from_dict(cls, model_dict: dict[str, Any]) -> Model:
        d = dict(model_dict)
        d.pop("is_signature_from_type_hint", None)
        d.pop("type_hint_from_example", None)
        if isinstance(d.get("signature"), dict):
            d["signature"] = ModelSignature.from_dict(d["signature"])
        d.setdefault("mlflow_version", None)
        known = {k: d.pop(k) for k in _KNOWN if k in d}
        return cls(**known, **d)

    def get_model_info(self, logged_model: Any = None) -> ModelInfo:
        return ModelInfo(self, logged_model)


class ModelInfo:
    """What ``log_model`` returns: the logged model's URI, ids and metadata."""

    def __init__(self, model: Model, logged_model: Any = None) -> None:
        self._model = model
        self._logged_model = logged_model
        self._registered_model_version: int | None = None

    @property
    def artifact_path(self) -> str | None:
        return self._model.artifact_path

    @property
    def flavors(self) -> dict[str, Any]:
        return self._model.flavors

    @property
    def model_uri(self) -> str:
        if self._model.model_id:
            return f"models:/{self._model.model_id}"
        return f"runs:/{self._model.run_id}/{self._model.artifact_path}"

    @property
    def model_id(self) -> str | None:
        return self._model.model_id

    @property
    def model_uuid(self) -> str | None:
        return self._model.model_uuid

    @property
    def run_id(self) -> str | None:
        return self._model.run_id

    @property
    def saved_input_example_info(self) -> dict[str, Any] | None:
        return self._model.saved_input_example_info

    @property
    def signature(self) -> ModelSignature | None:
        return self._model.signature

    @property
    def utc_time_created(self) -> str:
        return self._model.utc_time_created

    @property
    def mlflow_version(self) -> str | None:
        return self._model.mlflow_version

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self._model.metadata

    @property
    def env_vars(self) -> list[str] | None:
        return self._model.env_vars

    @property
    def prompts(self) -> list[str] | None:
        return self._model.prompts

    @property
    def registered_model_version(self) -> int | None:
        """The version ``log_model(..., registered_model_name=...)`` registered, if any."""
        return self._registered_model_version

    @registered_model_version.setter
    def registered_model_version(self, version: int | None) -> None:
        self._registered_model_version = version

    @property
    def name(self) -> str | None:
        return getattr(self._logged_model, "name", None)

    @property
    def params(self) -> dict[str, str]:
        return dict(getattr(self._logged_model, "params", {}) or {})

    @property
    def tags(self) -> dict[str, str]:
        return dict(getattr(self._logged_model, "tags", {}) or {})

    @property
    def metrics(self) -> Any:
        return getattr(self._logged_model, "metrics", None)

    @property
    def creation_timestamp(self) -> int | None:
        return getattr(self._logged_model, "creation_timestamp", None)
