"""The system tags every new run gets: user, source name and type, git commit/branch/remote.

Git facts are read from the ``.git`` directory itself (HEAD, refs, packed-refs, config): no
GitPython and no subprocess, so the first ``start_run`` stays fast. Computed once per process.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import re
import sys
from collections.abc import Callable

from tracklet import env
from tracklet.entities import SourceType

MLFLOW_USER = "mlflow.user"
MLFLOW_SOURCE_NAME = "mlflow.source.name"
MLFLOW_SOURCE_TYPE = "mlflow.source.type"
MLFLOW_GIT_COMMIT = "mlflow.source.git.commit"
MLFLOW_GIT_BRANCH = "mlflow.source.git.branch"
MLFLOW_GIT_REPO_URL = "mlflow.source.git.repoURL"
MLFLOW_RUN_NAME = "mlflow.runName"
MLFLOW_PARENT_RUN_ID = "mlflow.parentRunId"
MLFLOW_RUN_NOTE = "mlflow.note.content"
MLFLOW_DATASET_CONTEXT = "mlflow.data.context"
MLFLOW_LOGGED_MODELS = "mlflow.log-model.history"

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _user() -> str:
    return env.MLFLOW_TRACKING_USERNAME.get() or _os_user()


@functools.cache
def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _main_file() -> str | None:
    return sys.argv[0] if sys.argv and sys.argv[0] else None


@functools.cache
def _git_info(main_file: str | None) -> dict[str, str]:
    if main_file is None or not os.path.isfile(main_file):
        return {}
    directory = os.path.dirname(os.path.abspath(main_file))
    git_dir = _find_git_dir(directory)
    if git_dir is None or _ignored_by_git(directory):
        return {}
    commit, branch = _head(git_dir)
    if commit is None:
        return {}
    info = {MLFLOW_GIT_COMMIT: commit}
    if branch:
        info[MLFLOW_GIT_BRANCH] = branch
    url = _remote_url(git_dir)
    if url:
        info[MLFLOW_GIT_REPO_URL] = url
    return info


def _ignored_by_git(directory: str) -> bool:
    """MLflow records no git facts for a script in an ignored directory (a virtualenv, say).
    Only git itself knows every ignore rule, so ask it, once per process."""
    import subprocess

    try:
        result = subprocess.run(
            ["git", "check-ignore", "-q", directory],
            cwd=directory,
            capture_output=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def _find_git_dir(start: str) -> str | None:
    path = start
    while True:
        candidate = os.path.join(path, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):  # a worktree or submodule: "gitdir: <path>"
            try:
                with open(candidate, encoding="utf-8") as f:
                    text = f.read().strip()
            except OSError:
                return None
            if text.startswith("gitdir:"):
                target = text[len("gitdir:") :].strip()
                return os.path.normpath(os.path.join(path, target))
            return None
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def _common_dir(git_dir: str) -> str:
    common = _read(os.path.join(git_dir, "commondir"))
    return os.path.normpath(os.path.join(git_dir, common)) if common else git_dir


def _head(git_dir: str) -> tuple[str | None, str | None]:
    head = _read(os.path.join(git_dir, "HEAD"))
    if head is None:
        return None, None
    if _SHA.match(head):
        return head, None  # detached HEAD
    if not head.startswith("ref:"):
        return None, None
    ref = head[len("ref:") :].strip()
    branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None
    common = _common_dir(git_dir)
    for base in (git_dir, common):
        sha = _read(os.path.join(base, *ref.split("/")))
        if sha and _SHA.match(sha):
            return sha, branch
    packed = _read(os.path.join(common, "packed-refs")) or ""
    for line in packed.splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[1] == ref and _SHA.match(parts[0]):
            return parts[0], branch
    return None, branch  # a branch with no commits yet


def _remote_url(git_dir: str) -> str | None:
    config = _read(os.path.join(_common_dir(git_dir), "config")) or ""
    in_remote = False
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_remote = line.startswith("[remote ")
        elif in_remote and line.replace(" ", "").startswith("url="):
            return _strip_credentials(line.split("=", 1)[1].strip())
    return None


def _strip_credentials(url: str) -> str:
    return re.sub(r"^(\w+://)[^/@]+@", r"\1", url)


_context_providers: list[Callable[[], dict[str, str]]] = []


def register_context_provider(provider: Callable[[], dict[str, str]]) -> None:
    """Add tags to every new run's context (MLflow's run-context-provider registry):
    ``provider()`` is called for each run, after the default tags (Spark datasource
    autologging's ``sparkDatasourceInfo`` comes this way). Registering twice is a no-op."""
    if provider not in _context_providers:
        _context_providers.append(provider)


def context_tags() -> dict[str, str]:
    """MLflow's default, git and MLFLOW_RUN_CONTEXT tags for a new run."""
    main_file = _main_file()
    tags = {
        MLFLOW_USER: _user(),
        MLFLOW_SOURCE_NAME: main_file if main_file is not None else "<console>",
        MLFLOW_SOURCE_TYPE: SourceType.LOCAL.name,
    }
    tags.update(_git_info(main_file))
    extra = env.MLFLOW_RUN_CONTEXT.get()
    if extra:
        try:
            parsed = json.loads(extra)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            tags.update({str(k): str(v) for k, v in parsed.items()})
    for provider in _context_providers:
        tags.update(provider())
    return tags


def resolve_tags(user_tags: dict[str, str] | None = None) -> dict[str, str]:
    """Context tags overlaid with the user's own (the user wins, as in MLflow)."""
    tags = context_tags()
    if user_tags:
        tags.update(user_tags)
    return tags
