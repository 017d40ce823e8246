"""The chart series as binary (``metrics/series`` with ``"format": "binary"``): float64 columns
the browser reads in place (a ``Float64Array`` over the body) instead of JSON to encode, gzip,
gunzip and parse; a 50-chart grid's points are 0.4 MB either way, doubles barely compress.

Layout, little-endian: a uint32 header length ``h``; ``h`` bytes of UTF-8 JSON,
``{"series": [...]}``, each series' fields as in JSON but for its points: ``n`` (points) and
``band`` (true when min/max columns follow), and ``x_run`` ([start, stride]) when the x values
are ``start + i * stride``; zero bytes to the next multiple of 8; then per series ``x`` (unless
``x_run``), ``y`` and, with a band, ``min`` and ``max``: ``n`` float64 each. NaN and the
infinities are float64 values here, not strings.
"""

from __future__ import annotations

import struct
import sys
from array import array
from typing import Any

from tracklet import jsonio

MEDIA_TYPE = "application/octet-stream"
_POINT_FIELDS = ("x", "y", "band")


def encode(series: list[dict[str, Any]]) -> bytes:
    """The binary answer for one_series results."""
    header: list[dict[str, Any]] = []
    columns: list[bytes] = []
    for one in series:
        meta = {k: v for k, v in one.items() if k not in _POINT_FIELDS}
        xs = one["x"]
        meta["n"] = n = len(xs)
        meta["band"] = one["band"] is not None
        parts = [one["y"]]
        # Steps logged one by one (the usual raw series) are an arithmetic run: sent as its
        # start and stride, not n float64s (which, unlike their JSON text, would not compress).
        stride = xs[1] - xs[0] if n >= 2 else 1
        if n and stride > 0 and xs == list(range(xs[0], xs[0] + n * stride, stride)):
            meta["x_run"] = [xs[0], stride]
        else:
            parts.insert(0, xs)
        header.append(meta)
        if one["band"] is not None:
            parts += [one["band"]["min"], one["band"]["max"]]
        for values in parts:
            column = array("d", values)
            if sys.byteorder == "big":
                column.byteswap()
            columns.append(column.tobytes())
    head = jsonio.dumps({"series": header})
    pad = -(4 + len(head)) % 8
    return b"".join([struct.pack("<I", len(head)), head, b"\0" * pad, *columns])
