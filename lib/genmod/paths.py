"""Repository-relative paths: notebooks may run from any working directory."""

from __future__ import annotations

import os
from pathlib import Path


def _find_repo_root() -> Path:
    env = os.environ.get("GENMOD_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "notebooks").is_dir():
            return parent
    # Installed without the source tree: fall back to the working directory.
    return Path.cwd().resolve()


REPO_ROOT = _find_repo_root()
DATA_DIR = REPO_ROOT / "data"
REPORTS_DIR = REPO_ROOT / "reports"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DEFAULT_CACHE_DIR = REPO_ROOT / "cache"


def resolve_path(path: str | os.PathLike) -> Path:
    """An absolute path stays as it is; a relative one is taken from the repository root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (REPO_ROOT / p)
