"""The built-in dataset source classes, as ``mlflow.data.sources`` lists them."""

from tracklet.data.artifact_dataset_sources import (
    AzureBlobArtifactDatasetSource,
    AzureDataLakeArtifactDatasetSource,
    B2ArtifactDatasetSource,
    FTPArtifactDatasetSource,
    GCSArtifactDatasetSource,
    HdfsArtifactDatasetSource,
    LocalArtifactDatasetSource,
    R2ArtifactDatasetSource,
    S3ArtifactDatasetSource,
    SFTPArtifactDatasetSource,
)
from tracklet.data.code_dataset_source import CodeDatasetSource
from tracklet.data.http_dataset_source import HTTPDatasetSource

__all__ = [
    "AzureBlobArtifactDatasetSource",
    "AzureDataLakeArtifactDatasetSource",
    "B2ArtifactDatasetSource",
    "CodeDatasetSource",
    "FTPArtifactDatasetSource",
    "GCSArtifactDatasetSource",
    "HTTPDatasetSource",
    "HdfsArtifactDatasetSource",
    "LocalArtifactDatasetSource",
    "R2ArtifactDatasetSource",
    "S3ArtifactDatasetSource",
    "SFTPArtifactDatasetSource",
]
