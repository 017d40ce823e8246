"""``models:/`` URIs: ``models:/<model_id>`` (a logged model), ``models:/name/3`` (a version),
``models:/name/Production`` (a stage's newest), ``models:/name/latest`` and ``models:/name@alias``,
parsed exactly as MLflow 3.17 parses them (``store/artifact/utils/models.py``)."""

from __future__ import annotations

import urllib.parse
from typing import NamedTuple

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


class ParsedModelUri(NamedTuple):
    """Exactly one of: ``model_id``; ``name`` with ``version``, ``stage``, ``alias`` or none of
    them (the newest version of any stage)."""

    model_id: str | None = None
    name: str | None = None
    version: str | None = None
    stage: str | None = None
    alias: str | None = None


def _improper(uri: str) -> MlflowException:
    return MlflowException(
        f"Not a proper models:/ URI: {uri}. Models URIs must be of the form 'models:/name/suffix' "
        "or 'models:/name@alias' where suffix is a version, stage, or the string 'latest' and "
        "where alias is a registered model alias. Only one of suffix or alias can be defined at "
        "a time.",
        INVALID_PARAMETER_VALUE,
    )


def is_models_uri(uri: object) -> bool:
    return isinstance(uri, str) and urllib.parse.urlparse(uri).scheme == "models"


def parse_models_uri(uri: str) -> ParsedModelUri:
    """Split a ``models:/`` URI into what it names; refuse anything else with MLflow's message."""
    parsed = urllib.parse.urlparse(uri, allow_fragments=False)
    if parsed.scheme != "models":
        raise _improper(uri)
    path = parsed.path
    if not path.startswith("/") or len(path) <= 1:
        raise _improper(uri)
    parts = path.lstrip("/").split("/")
    if len(parts) > 2 or not parts[0].strip():
        raise _improper(uri)
    if len(parts) == 2:
        name, suffix = parts
        if not suffix.strip():
            raise _improper(uri)
        if suffix.isdigit():
            return ParsedModelUri(name=name, version=suffix)
        if suffix.lower() == "latest":
            return ParsedModelUri(name=name)
        return ParsedModelUri(name=name, stage=suffix)
    if "@" in path:
        name, _, alias = parts[0].rpartition("@")
        if not alias.strip():
            raise _improper(uri)
        return ParsedModelUri(name=name, alias=alias)
    return ParsedModelUri(model_id=parts[0])
