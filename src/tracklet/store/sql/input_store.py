"""Run inputs and outputs in the SQL store: datasets and models a run used or produced;
statements in ``inputs``."""

from __future__ import annotations

from collections.abc import Sequence

from tracklet import validation
from tracklet.entities import DatasetInput, LoggedModelInput, LoggedModelOutput
from tracklet.store.sql import inputs as input_queries
from tracklet.store.sql import runs as run_queries
from tracklet.store.sql.store_base import SqlStoreBase


class InputSqlStore(SqlStoreBase):
    """``log_inputs`` and ``log_outputs`` of :class:`~tracklet.store.sql.store.SqlStore`."""

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        for dataset_input in datasets:
            ds = dataset_input.dataset
            validation.validate_dataset(ds.name, ds.digest, ds.source, ds.schema, ds.profile)
            for tag in dataset_input.tags:
                validation.validate_input_tag(tag.key, tag.value)
        with self._writer.transaction() as db:
            run_queries.require_active(db, run_id)
            input_queries.write_dataset_inputs(db, run_id, datasets)
            input_queries.write_model_inputs(db, run_id, models)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        with self._writer.transaction() as db:
            run_queries.require_active(db, run_id)
            input_queries.write_model_outputs(db, run_id, models)
