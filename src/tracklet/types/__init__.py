"""MLflow's data types and schemas (``mlflow.types``): what model signatures and dataset schemas
are made of (``DataType``, ``Schema``, ``ColSpec``, ``TensorSpec``, ``ParamSchema``, ``ParamSpec``,
``Array``, ``Object``, ``Property``, ``Map``, ``AnyType``), and their inference from data
(:mod:`tracklet.types.utils`).

numpy and pandas are imported only when a schema is inferred or a tensor's dtype is read.
"""

from tracklet.types.schema import *  # noqa: F403 (the names and __all__ of tracklet.types.schema)
from tracklet.types.schema import __all__ as __all__
