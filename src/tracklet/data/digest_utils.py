"""Dataset digests, byte for byte MLflow's (``mlflow.data.digest_utils``).

A digest is the first 8 hex digits of an md5 over: pandas' row hashes of the first 10,000 rows
(string and numeric columns only), the row count and the column names for DataFrames; the hashes
of the first 10,000 flattened elements and the shape of each array for numpy data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

MAX_ROWS = 10000

# numpy kinds (bool, ints, floats, complex, datetimes) whose values are never ``str`` objects.
_NEVER_STR_KINDS = frozenset("biufcmM")


def _is_str_column(col: Any) -> bool:
    """Whether every value of ``col`` has type exactly ``str`` (MLflow's ``map(type) == str``)."""
    import numpy as np

    if len(col) == 0:
        return True  # ``all`` of nothing, as for MLflow's empty DataFrame
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in _NEVER_STR_KINDS:
        return False  # skip mapping ``type`` over every value: it cannot be str
    # MLflow's ``df.map(type) == str``: exactly str, not a subclass such as np.str_.
    return bool((col.map(type) == str).all())  # noqa: E721


def compute_pandas_digest(df: Any) -> str:
    """The digest MLflow computes for a pandas DataFrame.

    Args:
        df: A pandas DataFrame.

    Returns:
        An 8-character hex digest.
    """
    import numpy as np
    import pandas as pd

    trimmed_df = df.head(MAX_ROWS)
    # Whether a column is all-str is judged over the whole frame, as in MLflow.
    string_mask = np.array([_is_str_column(df.iloc[:, i]) for i in range(df.shape[1])], dtype=bool)
    string_columns = trimmed_df.columns[string_mask]
    numeric_columns = trimmed_df.select_dtypes(include=[np.number]).columns
    trimmed_df = trimmed_df[string_columns.union(numeric_columns)]
    return get_normalized_md5_digest(
        [pd.util.hash_pandas_object(trimmed_df).values, np.int64(len(df))]
        + [str(x).encode() for x in df.columns]
    )


def compute_numpy_digest(features: Any, targets: Any = None) -> str:
    """The digest MLflow computes for numpy features and optional targets.

    Args:
        features: A numpy array or a dict of name -> numpy array.
        targets: A numpy array or a dict of name -> numpy array, or None.

    Returns:
        An 8-character hex digest.
    """
    import numpy as np
    import pandas as pd

    elements: list[Any] = []

    def hash_array(array: Any) -> None:
        trimmed = array.flatten()[0:MAX_ROWS]
        try:
            elements.append(pd.util.hash_array(trimmed))
        except TypeError:  # unhashable values (e.g. mixed objects): fall back on the size
            elements.append(np.int64(trimmed.size))
        elements.extend(np.int64(x) for x in array.shape)

    for item in (features, targets):
        if item is None:
            continue
        if isinstance(item, dict):
            for key in sorted(item.keys()):
                hash_array(item[key])
        else:
            hash_array(item)
    return get_normalized_md5_digest(elements)


def get_normalized_md5_digest(elements: Iterable[Any]) -> str:
    """The first 8 hex digits of the md5 of ``elements`` (each bytes-like).

    Args:
        elements: Bytes-like objects (bytes, numpy arrays and scalars).

    Returns:
        An 8-character hex digest.

    Raises:
        MlflowException: If ``elements`` is empty.
    """
    md5 = hashlib.md5(usedforsecurity=False)
    empty = True
    for element in elements:
        md5.update(element)
        empty = False
    if empty:
        raise MlflowException(
            "No hashable elements were provided for md5 digest creation",
            INVALID_PARAMETER_VALUE,
        )
    return md5.hexdigest()[:8]
