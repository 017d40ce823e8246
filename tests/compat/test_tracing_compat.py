"""Tracing across client and server: MLflow 3.17.2's own client against ``tracklet server``,
and tracklet's client against ``tracklet server`` and a real ``mlflow server``; each records,
searches, reads, tags and deletes traces through the same scenario with the same results."""

from __future__ import annotations

from typing import Any

import pytest
from tests.tracing.links_scenario import EXPECTED as LINKS_EXPECTED
from tests.tracing.links_scenario import run_links_scenario
from tests.tracing.scenario import EXPECTED, run_scenario

import tracklet


def test_mlflow_client_against_tracklet_server(mlflow: Any, unique: str) -> None:
    assert run_scenario(mlflow, unique) == EXPECTED


@pytest.mark.xdist_group("mlflow_server")
def test_tracklet_client_against_any_server(any_server: Any, unique: str) -> None:
    tracklet.set_tracking_uri(any_server.url)
    assert run_scenario(tracklet, unique) == EXPECTED


def test_links_and_sampling_mlflow_client_against_tracklet_server(mlflow: Any, unique: str) -> None:
    assert run_links_scenario(mlflow, unique) == LINKS_EXPECTED


@pytest.mark.xdist_group("mlflow_server")
def test_links_and_sampling_tracklet_client_against_any_server(
    any_server: Any, unique: str
) -> None:
    tracklet.set_tracking_uri(any_server.url)
    assert run_links_scenario(tracklet, unique) == LINKS_EXPECTED
