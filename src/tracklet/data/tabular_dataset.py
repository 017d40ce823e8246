"""``TabularDataset``: what the pandas, Spark and Hugging Face datasets share: a table of named
columns, optional target and prediction columns that must be among them, and MLflow's
``mlflow_colspec`` schema and profile in the config dictionary."""

from __future__ import annotations

import json
from collections.abc import Collection

from tracklet.data.dataset import Dataset
from tracklet.data.dataset_source import DatasetSource
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


class TabularDataset(Dataset):
    """A dataset of named columns; subclasses name the table for error messages (MLflow's
    wording differs per kind) and give its columns."""

    _TABLE_DESCRIPTION = "dataset"

    def __init__(
        self,
        columns: Collection[str],
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ) -> None:
        for role, column in (("targets", targets), ("predictions", predictions)):
            if column is not None and column not in columns:
                raise MlflowException(
                    f"The specified {self._TABLE_DESCRIPTION} does not contain the specified"
                    f" {role} column '{column}'.",
                    INVALID_PARAMETER_VALUE,
                )
        self._targets = targets
        self._predictions = predictions
        super().__init__(source=source, name=name, digest=digest)

    @property
    def targets(self) -> str | None:
        """The name of the target column, or None."""
        return self._targets

    @property
    def predictions(self) -> str | None:
        """The name of the predictions column, or None."""
        return self._predictions

    def to_dict(self) -> dict[str, str | None]:
        """MLflow's config dictionary: name, digest, source, source_type, schema, profile."""
        schema = self.schema
        config = super().to_dict()
        config["schema"] = json.dumps({"mlflow_colspec": schema.to_dict()}) if schema else None
        config["profile"] = json.dumps(self.profile)
        return config
