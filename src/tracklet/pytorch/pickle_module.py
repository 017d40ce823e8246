"""The ``pickle_module`` tracklet hands to ``torch.save``/``torch.load``: cloudpickle for
writing (it can capture classes defined in ``__main__``) and the standard unpickler for
reading — the same contents as ``mlflow.pytorch.pickle_module``, which models name."""

from pickle import Unpickler  # noqa: F401

from cloudpickle import *  # type: ignore[import-untyped]  # noqa: F403
from cloudpickle import CloudPickler as Pickler  # noqa: F401
