"""Shared helpers for the notebooks' end-to-end tests (test_notebook_*): a section notebook
run by papermill on the ``genmod`` kernel, on the smoke profile or with a bad parameter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def run_smoke(nb: Path, tmp_path: Path, **params) -> tuple[dict, Path]:
    """``nb`` run on the smoke profile on the CPU from ``tmp_path`` (any working directory
    works), its cache and results.json there, with ``params`` besides; (the results record,
    the executed notebook)."""
    papermill = pytest.importorskip("papermill")
    out = tmp_path / nb.name
    res = tmp_path / "results.json"
    papermill.execute_notebook(
        str(nb),
        str(out),
        parameters=dict(
            profile="smoke",
            device="cpu",
            cache_dir=str(tmp_path / "cache"),
            results_path=str(res),
            **params,
        ),
        kernel_name="genmod",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    return json.loads(res.read_text()), out


def missing_keys(record: dict, keys: dict[str, list[str]]) -> list[str]:
    """The ``group.key`` of ``keys`` that the results record lacks."""
    return [
        f"{group}.{k}" for group, names in keys.items() for k in names if k not in record[group]
    ]


def run_rejected(nb: Path, tmp_path: Path, match: str, **params) -> None:
    """``nb`` run on the smoke profile with ``params`` fails with an error matching ``match``
    and writes no results."""
    papermill = pytest.importorskip("papermill")
    results = tmp_path / "r.json"
    with pytest.raises(papermill.PapermillExecutionError, match=match):
        papermill.execute_notebook(
            str(nb),
            str(tmp_path / "bad.ipynb"),
            parameters=dict(profile="smoke", results_path=str(results), **params),
            kernel_name="genmod",
            progress_bar=False,
        )
    assert not results.exists()
