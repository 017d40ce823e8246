"""The environment files of a model directory, as MLflow writes them: ``requirements.txt``,
``python_env.yaml`` and ``conda.yaml``.

Requirements are the flavor's packages pinned to their installed versions (read from
``importlib.metadata``): tracklet never imports or runs the model in a subprocess to discover
them, which is what makes ``log_model`` fast (MLflow spends seconds there).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
from typing import Any

from tracklet.exceptions import MlflowException

CONDA_ENV_FILE_NAME = "conda.yaml"
REQUIREMENTS_FILE_NAME = "requirements.txt"
CONSTRAINTS_FILE_NAME = "constraints.txt"
PYTHON_ENV_FILE_NAME = "python_env.yaml"
# The MLflow release whose model format tracklet writes; MLflow's tools that rebuild a model's
# environment (``mlflow models serve``) need it installed, so it heads the requirements.
MLFLOW_FORMAT_VERSION = "3.17.2"
PYTHON_VERSION = platform.python_version()
_BUILD_PACKAGES = ("pip", "setuptools", "wheel")


@functools.cache
def installed_version(package: str) -> str | None:
    """The installed version of ``package`` (read once per process: a metadata lookup scans
    ``sys.path`` and costs milliseconds, and a model logged later pins what is imported)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def pinned_requirement(package: str) -> str:
    """``package==<installed version>`` without a local label (``torch==2.13.0``, not
    ``+cpu``, which no package index serves); the bare name if it is not installed."""
    version = installed_version(package)
    if version is None:
        return package
    return f"{package}=={version.split('+', 1)[0]}"


def _requirement_name(requirement: str) -> str:
    name = requirement.strip()
    for sep in ("[", "=", "<", ">", "!", "~", ";", " ", "@"):
        name = name.split(sep, 1)[0]
    return name.lower().replace("_", "-")


def _read_requirements(requirements: list[str] | str) -> list[str]:
    if isinstance(requirements, str):
        with open(requirements, encoding="utf-8") as f:
            lines = f.read().splitlines()
    else:
        lines = [str(r) for r in requirements]
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def resolve_requirements(
    defaults: list[str],
    pip_requirements: list[str] | str | None = None,
    extra_pip_requirements: list[str] | str | None = None,
) -> list[str]:
    """The model's pip requirements: ``pip_requirements`` replaces the flavor's defaults,
    ``extra_pip_requirements`` adds to them; MLflow is put first unless already named."""
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise MlflowException.invalid_parameter_value(
            "Only one of `pip_requirements` and `extra_pip_requirements` can be specified"
        )
    if pip_requirements is not None:
        requirements = _read_requirements(pip_requirements)
    else:
        requirements = [*defaults, *_read_requirements(extra_pip_requirements or [])]
    names = [_requirement_name(r) for r in requirements]
    if "mlflow" not in names:
        requirements.insert(0, f"mlflow=={MLFLOW_FORMAT_VERSION}")
    unique: dict[str, str] = {}
    for requirement in requirements:
        unique.setdefault(_requirement_name(requirement) or requirement, requirement)
    return list(unique.values())


def conda_env(pip_requirements: list[str]) -> dict[str, Any]:
    """MLflow's conda environment around the pip requirements."""
    pip_version = installed_version("pip")
    return {
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={PYTHON_VERSION}",
            f"pip<={pip_version}" if pip_version else "pip",
            {"pip": list(pip_requirements)},
        ],
        "name": "mlflow-env",
    }


def python_env() -> dict[str, Any]:
    build = []
    for package in _BUILD_PACKAGES:
        version = installed_version(package)
        build.append(f"{package}=={version}" if version else package)
    return {
        "python": PYTHON_VERSION,
        "build_dependencies": build,
        "dependencies": [f"-r {REQUIREMENTS_FILE_NAME}"],
    }


def _pip_requirements_of_conda(env: dict[str, Any]) -> list[str]:
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            return [str(r) for r in dep["pip"]]
    return []


def write_environment(
    path: str,
    default_requirements: list[str],
    conda_env_arg: dict[str, Any] | str | None = None,
    pip_requirements: list[str] | str | None = None,
    extra_pip_requirements: list[str] | str | None = None,
) -> list[str]:
    """Write conda.yaml, requirements.txt and python_env.yaml into model directory ``path``.

    Args:
        path: The model directory.
        default_requirements: The flavor's pinned packages.
        conda_env_arg: A conda environment (dict or YAML file) given by the user; its pip
            section becomes requirements.txt.
        pip_requirements: Requirements replacing the defaults (list or requirements file).
        extra_pip_requirements: Requirements added to the defaults.

    Returns:
        The pip requirements written.
    """
    import yaml

    if conda_env_arg is not None:
        if pip_requirements is not None or extra_pip_requirements is not None:
            raise MlflowException.invalid_parameter_value(
                "Only one of `conda_env`, `pip_requirements`, and `extra_pip_requirements` "
                "can be specified"
            )
        if isinstance(conda_env_arg, str):
            with open(conda_env_arg, encoding="utf-8") as f:
                env = yaml.safe_load(f)
        else:
            env = conda_env_arg
        requirements = _pip_requirements_of_conda(env)
    else:
        requirements = resolve_requirements(
            default_requirements, pip_requirements, extra_pip_requirements
        )
        env = conda_env(requirements)
    with open(os.path.join(path, CONDA_ENV_FILE_NAME), "w", encoding="utf-8") as f:
        yaml.safe_dump(env, stream=f, default_flow_style=False)
    with open(os.path.join(path, REQUIREMENTS_FILE_NAME), "w", encoding="utf-8") as f:
        f.write("\n".join(requirements))
    with open(os.path.join(path, PYTHON_ENV_FILE_NAME), "w", encoding="utf-8") as f:
        yaml.safe_dump(python_env(), f, sort_keys=False, default_flow_style=False)
    return requirements
