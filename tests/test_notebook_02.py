"""End-to-end: notebook 02 runs with the smoke profile and writes every results.json key."""

from __future__ import annotations

import math

import pytest
from genmod.paths import NOTEBOOKS_DIR
from notebook_fixtures import missing_keys, run_rejected, run_smoke

NB = NOTEBOOKS_DIR / "02_diffusion_conditional.ipynb"

KEYS = {
    "classes": ["n", "regions"],
    "samples": ["points", "labels", "class_accuracy", "oracle_class_accuracy"],
    "improved": ["points", "labels", "class_accuracy"],
    "trajectories": ["final_points", "in_region"],
    "bonus": ["target", "reached", "error", "method"],
    "likelihood": ["interior_mean_exact", "truth"],
}
PROBE_KEYS = {"x", "y", "class", "in_distribution", "log_prob_bound", "stderr", "exact_log_prob"}


@pytest.mark.slow
def test_notebook_02_smoke(tmp_path):
    probes = [[0.0, -0.375, 1], [0.0, -0.375, 3], [0.9, 0.9, 4], [3.0, 0.0, 0], [-0.5, 0.0, 0]]
    r, _ = run_smoke(NB, tmp_path, probe_points=probes, bonus_target=[-3.0, 2.5])
    assert r["section"] == "diffusion_conditional"
    assert r["params"]["profile"] == "smoke" and r["params"]["probe_points"] == probes
    assert missing_keys(r, KEYS) == []
    assert set(r["answers"]) >= {"C1", "C2", "C3", "C4", "C5", "C6", "Bonus"}
    k = r["classes"]["n"]
    assert k >= 5 and len(r["classes"]["regions"]) == k
    assert all(len(rect) == 4 for rs in r["classes"]["regions"].values() for rect in rs)
    n = len(r["samples"]["points"])
    assert n == len(r["samples"]["labels"]) >= 5 * 100
    assert set(r["samples"]["class_accuracy"]) == {str(c) for c in range(k)}
    assert min(r["samples"]["oracle_class_accuracy"].values()) > 0.9  # the oracle is exact
    assert len(r["trajectories"]["final_points"]) == len(r["trajectories"]["in_region"]) == k
    assert len(r["probes"]) == len(probes)
    for p, given in zip(r["probes"], probes):
        assert PROBE_KEYS <= set(p) and [p["x"], p["y"], p["class"]] == given
        assert math.isfinite(p["log_prob_bound"]) and p["stderr"] > 0
    assert r["probes"][0]["in_distribution"] and not r["probes"][1]["in_distribution"]
    assert r["probes"][3]["log_prob_bound"] < r["probes"][4]["log_prob_bound"]
    assert r["bonus"]["target"] == [-3.0, 2.5]
    assert r["bonus"]["reached"] and r["bonus"]["error"] < 0.01  # DDIM inversion is exact
    assert set(r["likelihood"]["truth"]) == {str(c) for c in range(k)}
    assert r["likelihood"]["truth"]["0"] == pytest.approx(-math.log(2.2))
    assert all(math.isfinite(v) for v in r["runtime"]["seconds"].values())
    # the answers are rendered from the measured numbers
    acc = r["samples"]["oracle_class_accuracy"]
    assert f"{min(acc.values()):.3f}" in r["answers"]["C5"]
    assert f"{r['bonus']['attempts'][0]['error']:.3f}" in r["answers"]["Bonus"]


@pytest.mark.slow
def test_notebook_02_rejects_bad_probe_before_any_work(tmp_path):
    cache = tmp_path / "cache"
    run_rejected(
        NB, tmp_path, "class id out of range", probe_points=[[0.0, 0.0, 7]], cache_dir=str(cache)
    )
    assert not cache.exists()  # failed before training
