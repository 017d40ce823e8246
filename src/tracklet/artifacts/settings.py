"""Environment variables of artifact transfers (MLflow's names and defaults).

They are declared here, with ``tracklet.env``'s typed variables, because only artifact
transfers read them.
"""

from __future__ import annotations

from tracklet.env import BoolVar, IntVar

MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE = IntVar(
    "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", 500 * 1024**2
)
MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE = IntVar("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", 10 * 1024**2)
MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD = BoolVar("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", False)
MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD = BoolVar("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", False)
MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE = IntVar("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", 100 * 1024**2)
# Parts moved at once by one multipart transfer (MLflow's client uses a pool of about this size).
TRANSFER_THREADS = 8


def part_count(file_size: int, chunk_size: int) -> int:
    """Parts of ``chunk_size`` bytes (the last one shorter) that make up ``file_size`` bytes."""
    return max(1, -(-file_size // chunk_size))
