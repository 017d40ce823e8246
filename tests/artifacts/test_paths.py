"""validate_relative_path / safe_join: every decoding is checked, the given name is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklet.artifacts.paths import safe_join, validate_relative_path
from tracklet.exceptions import MlflowException


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("100%25.txt", "100%25.txt"),
        ("a/./b//c.txt", "a/b/c.txt"),
        ("dir/100%.txt", "dir/100%.txt"),
        ("", ""),
        (".", ""),
    ],
)
def test_names_are_kept(given: str, expected: str) -> None:
    assert validate_relative_path(given) == expected


@pytest.mark.parametrize(
    "probe",
    [
        "../x",
        "a/../../x",
        "%2e%2e/x",
        "%252e%252e/x",
        "a%2F..%2F..%2Fetc",
        "%2Fetc/passwd",
        "/etc/passwd",
        "a\\b",
        "a%5Cb",
        "a\x00b",
        "a%00b",
        "C:/x",
    ],
)
def test_probes_are_refused(probe: str, tmp_path: Path) -> None:
    with pytest.raises(MlflowException) as error:
        safe_join(str(tmp_path), probe)
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"


def test_percent_named_file_lands_under_its_own_name(tmp_path: Path) -> None:
    target = safe_join(str(tmp_path), "sub/100%25.txt")
    assert target == str(tmp_path.resolve() / "sub" / "100%25.txt")
