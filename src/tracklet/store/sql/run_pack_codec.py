"""The text of a run pack: a run's params, tags and latest metrics as one JSON document.

    [{param: value}, {tag: value}, {metric: latest value}, "timestamp,step,timestamp,..."]

with the metrics' timestamps and steps in the order of their keys, as one string: they are
read only when a caller asks for a run's Metric objects (see LatestMetrics), so a page does
not build and free ten integers a run. JSON has no NaN or
infinity: such a value is written as the string ``"nan"``, ``"inf"`` or ``"-inf"`` and a fifth
element (``1``) says the values need that conversion, so the common document decodes with no
pass over its values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from tracklet import jsonio

# A latest-metric row as run_parts reads it: (key, value or None for NaN, timestamp, step).
MetricRow = tuple[str, float | None, int, int]
# math.nan itself, as the part rows give it: dicts holding it then compare equal (identity).
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_loads = jsonio.loads_own
Decoded = tuple[dict[str, str], dict[str, str], dict[str, float], str]


def encode(params: Mapping[str, str], tags: Mapping[str, str], metrics: Iterable[MetricRow]) -> str:
    values: dict[str, Any] = {}
    points: list[str] = []
    special = False
    for key, value, timestamp, step in metrics:
        if value is None or math.isnan(value):
            values[key], special = "nan", True
        elif math.isinf(value):
            values[key], special = ("inf" if value > 0 else "-inf"), True
        else:
            values[key] = value
        points += (str(timestamp), str(step))
    document: list[Any] = [dict(params), dict(tags), values, ",".join(points)]
    if special:
        document.append(1)
    return jsonio.dumps(document).decode()


def decode(text: str) -> Decoded:
    document = _loads(text)
    values = document[2]
    if len(document) > 4:
        for key, value in values.items():
            if value.__class__ is str:
                values[key] = _NON_FINITE[value]
    return document[0], document[1], values, document[3]
