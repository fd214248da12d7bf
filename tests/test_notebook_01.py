"""End-to-end: notebook 01 runs with the smoke profile and writes every results.json key."""

from __future__ import annotations

import math

import pytest
from genmod.paths import NOTEBOOKS_DIR
from notebook_fixtures import missing_keys, run_rejected, run_smoke

NB = NOTEBOOKS_DIR / "01_diffusion_unconditional.ipynb"

KEYS = {
    "train": ["loss_history", "final_loss"],
    "forward": ["start", "trajectory"],
    "samples": [
        "points",
        "T",
        "inside_fraction",
        "edge_band",
        "oracle_inside_fraction",
        "oracle_edge_band",
    ],
    "improved": ["points", "description", "inside_fraction", "edge_band"],
    "seeds": ["points"],
    "steps": ["T_values", "points"],
    "determinism": ["max_abs_diff"],
    "stochastic": ["lam", "max_abs_diff"],
    "schedules": ["original", "modified"],
}


@pytest.mark.slow
def test_notebook_01_smoke(tmp_path):
    r, _ = run_smoke(NB, tmp_path, T_values=[1, 10, 50], lam=0.7)
    assert r["section"] == "diffusion_unconditional"
    assert r["params"]["profile"] == "smoke" and r["params"]["T_values"] == [1, 10, 50]
    assert missing_keys(r, KEYS) == []
    assert set(r["answers"]) >= {"U1", "U2", "U3", "U4", "U5", "U6"}
    assert len(r["seeds"]["points"]) == 9 and len(r["seeds"]["points"][0]) == 500
    assert len(r["samples"]["points"]) == 500 and r["samples"]["T"] == 100
    assert len(r["steps"]["points"]) == 3
    assert r["train"]["final_loss"] < 2.0 and len(r["train"]["loss_history"]) == 200
    assert r["determinism"]["max_abs_diff"] == 0
    assert r["stochastic"]["max_abs_diff"] > 0 and r["stochastic"]["lam"] == 0.7
    fs = r["params"]["forward_start"]
    assert r["forward"]["trajectory"][0][0] == 0.0 and max(abs(fs[0]), abs(fs[1])) > 1
    assert r["samples"]["inside_fraction"] > 0.8  # even the smoke budget learns the square
    for rec in r["samplers"].values():
        assert len(rec["nfe"]) == len(rec["energy_distance"]) == len(rec["inside_fraction"])
    assert all(math.isfinite(v) for v in r["runtime"]["seconds"].values())
    # the answers are rendered from the measured numbers
    assert f"{100 * r['samples']['oracle_inside_fraction']:.1f} %" in r["answers"]["U3"]
    # ... by the section's answer functions, from the record alone: the file reproduces them
    from genmod.sections.diffusion_unconditional import answers
    from genmod.sections.findings import check_claims, render

    assert set(r["answers"]) == set(answers.ANSWERS) | set(answers.FINDINGS)
    for qid, answer in answers.ANSWERS.items():
        assert answer(r) == r["answers"][qid], qid
    for qid, finding in answers.FINDINGS.items():
        assert render(answers.TEMPLATES, finding(r), "full") == r["answers"][qid], qid
    assert check_claims(r) == [] and r["claims"]["U6"][0]["name"] == "u6.ddim_identical"
    assert "λ = 0.7" in r["answers"]["U6"] and "1.4·z" in r["answers"]["U6"]
    assert "probability-flow ODE's output at t = 0" in r["answers"]["likelihood"]


@pytest.mark.slow
def test_notebook_01_rejects_bad_parameter(tmp_path):
    run_rejected(NB, tmp_path, "forward_start", forward_start=[0.1, 0.2])
