"""A missing optional extra is an error naming the ``pip install`` that fixes it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tracklet.exceptions import MlflowException
from tracklet.store.schemes import open_store


def test_postgres_uri_without_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails
    with pytest.raises(MlflowException) as e:
        open_store("postgresql://someone@127.0.0.1:1/tracking")
    assert e.value.message == (
        "A PostgreSQL tracking URI needs the psycopg driver (psycopg is not installed): "
        "pip install 'tracklet[postgres]'"
    )
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(("fmt", "package"), [("skops", "skops"), ("cloudpickle", "cloudpickle")])
def test_sklearn_model_without_its_serializer_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, package: str
) -> None:
    from sklearn.linear_model import LinearRegression

    import tracklet.sklearn

    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    for name in (package, f"{package}.io"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MlflowException, match=r"pip install 'tracklet\[sklearn\]'") as e:
        tracklet.sklearn.save_model(model, str(tmp_path / "m"), serialization_format=fmt)
    assert f"needs the '{package}' package" in e.value.message
    assert not (tmp_path / "m" / "model.pkl").exists()
