"""The audit grid: the three notebooks at the smoke profile over extreme but allowed parameters
(few steps, λ = 0, tiny and huge, one epoch, targets inside the square and very far, probes on
region boundaries and outside). No notebook may crash; every claim recorded in results.json must
follow from its operands; no answer may print a non-finite number as a figure."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from genmod.sections.findings import check_claims

ROOT = Path(__file__).resolve().parents[1]
U, C, G = "01_diffusion_unconditional", "02_diffusion_conditional", "03_autoregressive_gpt"
BOUNDARY_PROBES = [[0, 0, 0], [0, 0, 1], [-0.99, 0.99, 2], [3, 3, 0], [3, 3, 4], [-8, 0.5, 1]]

#: name → (notebook, parameters); r1–r7 are the runs of the first audit.
GRID = {
    "r1": (U, dict(seed=5, T=7, T_values=[1, 3, 7, 4000], lam=0.05, forward_start=[0.2, 9.0])),
    "r2_blow_up": (U, dict(seed=6, lam=25.0, T=2, T_values=[2])),
    "r7_one_epoch": (U, dict(seed=3, epochs=1)),
    "T1_lam0": (U, dict(T=1, lam=0.0, T_values=[1])),
    "T3_tiny_lam": (U, dict(T=3, lam=1e-6, T_values=[3, 1])),
    "r3_target_inside": (C, dict(seed=6, bonus_target=[0.3, -0.2], probe_points=BOUNDARY_PROBES)),
    "r4_far_target_T3": (C, dict(seed=2, T=3, bonus_target=[-40, 40])),
    "r5_prompt": (G, dict(seed=4, prompt="Off with her", min_words=20)),
}
NON_FINITE = re.compile(r"(?<![\w.])[-−]?(nan|inf)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(GRID))
def test_audit_run(name, tmp_path, cache):
    papermill = pytest.importorskip("papermill")
    notebook, params = GRID[name]
    res = tmp_path / "results.json"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / f"{notebook}.ipynb"), str(tmp_path / "out.ipynb"),
        parameters=dict(profile="smoke", device="cpu", cache_dir=str(cache),
                        results_path=str(res), **params),
        kernel_name="genmod", cwd=str(ROOT), progress_bar=False,
    )  # fmt: skip
    r = json.loads(res.read_text())
    assert check_claims(r) == []
    for qid, text in r["answers"].items():
        assert not NON_FINITE.search(text), (qid, NON_FINITE.search(text).group())
    for qid, h in r["headlines"].items():
        assert not NON_FINITE.search(h["answer"]), qid
        assert isinstance(h["value"], int | float) and math.isfinite(h["value"]), qid
    if name == "r2_blow_up":
        assert r["headlines"]["U6"]["verdict"] == "blew up"
        assert "balances" not in r["answers"]["U6"]
