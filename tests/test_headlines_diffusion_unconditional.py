"""Section 01's short answers (headlines): every verdict on a hand-made record that chooses it,
the answer's key words, and the headline figure read from the record at its path."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
from diffusion_unconditional_fixtures import NO_SMALL_T, record, with_
from genmod.sections import findings as F
from genmod.sections.diffusion_unconditional import answers as A
from genmod.sections.diffusion_unconditional import findings as U
from genmod.sections.summary import Headline, headline, value_at

ROOT = Path(__file__).resolve().parents[1]
IDS = ["U2", "U3", "U4", "U5"]
VERDICTS = {
    "U2": {"at the optimum", "above the optimum", "below the optimum", "untested"},
    "U3": {"narrower", "as wide", "wider", "untested"},
    "U4": {"converged", "still changing", "single T"},
    "U5": {"met", "missed"},
}


def full(qid: str, rec: dict) -> str:
    return F.render(U.TEMPLATES, U.FINDINGS[qid](rec), "full")


def check(qid: str, rec: dict, verdict: str) -> Headline:
    """The headline of ``qid`` for ``rec`` as the run records it (the finding's short answer,
    verdict and figure), checked: its verdict, its figure as found in the record, one line
    of answer, claims that re-derive; the full answer still renders."""
    f = U.FINDINGS[qid](rec)
    assert f.verdict == verdict and verdict in VERDICTS[qid]
    assert F.check_claims({"claims": {qid: [c.to_json() for c in f.claims]}}) == []
    h = headline(rec, f.path, f.figure, F.render(U.TEMPLATES, f, "short"), f.verdict, f.fmt,
                 f.reduce)  # fmt: skip
    assert h.value == value_at(rec, h.path, h.reduce)
    assert "\n" not in h.answer and 0 < len(h.answer) <= 240, h.answer
    assert h.figure and full(qid, rec)
    return h


@pytest.fixture
def rec():
    return record()


# ---------------------------------------------------------------- registry
def test_headline_registry_ids():
    assert set(A.QUESTIONS) == set(IDS) | {"U1", "U6"} and set(A.QUESTIONS) <= set(A.FINDINGS)
    r = record()
    for qid in IDS:
        assert U.FINDINGS[qid](r).verdict in VERDICTS[qid]
        assert (U.TEMPLATES / f"{qid.lower()}.short.md.j2").exists()


# ---------------------------------------------------------------- U2
def test_headline_U2_at_the_optimum(rec):
    h = check("U2", rec, "at the optimum")
    assert h.path == "train.final_loss" and h.value == rec["train"]["final_loss"]
    assert "The loss falls from" in h.answer
    assert "within the noise of the oracle's optimum 1.700 (difference" in h.answer
    assert "within the noise of this optimum" in full("U2", rec)


def test_headline_U2_above_the_optimum(rec):
    r = with_(rec, **{"train.oracle_loss": {"mean": 0.5, "stderr": 0.01, "draws": 20}})
    h = check("U2", r, "above the optimum")
    assert "ends 1.200 ± 0.011 above the oracle's optimum 0.500" in h.answer
    assert "above this optimum" in full("U2", r)


def test_headline_U2_below_the_optimum(rec):
    final = rec["train"]["final_loss"]
    r = with_(rec, **{"train.oracle_loss": {"mean": final + 0.2, "stderr": 0.01, "draws": 20}})
    h = check("U2", r, "below the optimum")
    assert "ends 0.200 ± 0.011 below" in h.answer and "500 training points themselves" in h.answer
    assert "fits those points themselves" in full("U2", r)


def test_headline_U2_trend_words(rec):
    up = [1.0 + 0.001 * e for e in range(200)]
    h = check("U2", with_(rec, **{"train.loss_history": up}), "below the optimum")
    assert h.answer.startswith("The loss rises from")
    r = with_(rec, **{"train.oracle_loss": {"mean": 1.72, "stderr": 0.02, "draws": 20}})
    flat = [1.7 + 0.05 * ((-1) ** e) for e in range(200)]
    h = check("U2", with_(r, **{"train.loss_history": flat}), "at the optimum")
    assert "stays within the noise" in h.answer and "falls" not in h.answer


def test_headline_U2_one_epoch(rec):
    r = with_(rec, **{"train.loss_history": [1.9], "train.initial_loss_window": 1,
                      "train.final_loss_window": 1, "train.from_cache": True})  # fmt: skip
    h = check("U2", r, "above the optimum")
    assert "too few epochs to call a trend" in h.answer
    assert "falls" not in h.answer and "rises" not in h.answer


# ---------------------------------------------------------------- U3
def test_headline_U3_narrower_and_as_good(rec):
    h = check("U3", rec, "narrower")
    assert h.path == "samples.std_per_coordinate.learned" and h.value == 0.523
    assert "95.8 %–98.0 % inside" in h.answer
    assert "narrower than the square (SD per coordinate 0.523 ± 0.003 vs the truth's 0.577)" in (
        h.answer
    )
    assert "seed 0 is as good as the oracle" in h.answer
    assert "as good as the perfect denoiser" in full("U3", rec)


def test_headline_U3_as_wide(rec):
    h = check("U3", with_(rec, **{"samples.std_per_coordinate.learned": 0.576}), "as wide")
    assert "as wide as the square" in h.answer and "narrower" not in h.answer


def test_headline_U3_wider(rec):
    h = check("U3", with_(rec, **{"samples.std_per_coordinate.learned": 0.65}), "wider")
    assert "wider than the square (SD per coordinate 0.650" in h.answer


def test_headline_U3_untested(rec):
    r = copy.deepcopy(rec)
    r["samples"]["std_per_coordinate"]["learned_stderr"] = math.nan
    h = check("U3", r, "untested")
    assert "no standard error" in h.answer and "narrower" not in h.answer


def test_headline_U3_worse_and_different_from_oracle(rec):
    r = with_(rec, **{"samples.inside_fraction": 0.958})
    h = check("U3", r, "narrower")
    assert "seed 0 is measurably worse than the oracle" in h.answer
    assert "measurably worse than the perfect denoiser" in full("U3", r)
    r = with_(rec, **{"samples.edge_band": 0.19})
    h = check("U3", r, "narrower")
    assert "seed 0 is measurably different from the oracle" in h.answer
    assert "differs measurably" in full("U3", r)


# ---------------------------------------------------------------- U4
def test_headline_U4_converged_and_few_steps_fail(rec):
    h = check("U4", rec, "converged")
    assert h.path == "steps.energy_distance.3" and h.value == 0.0052
    assert h.answer.startswith("Few steps fail: at T = 1 the energy distance is 0.7177")
    assert "with the oracle too" in h.answer
    assert "from T = 20 to 100 more steps no longer reduce the error" in h.answer
    assert "no longer reduce the error" in full("U4", rec)


def test_headline_U4_still_changing(rec):
    r = with_(rec, **{"steps.energy_distance": [0.7177, 0.1095, 0.03, 0.0052]})
    h = check("U4", r, "still changing")
    assert "between T = 20 and 100 the energy distance still changes beyond the noise" in h.answer
    assert "still changes beyond the noise" in full("U4", r)
    r = with_(r, **{"steps.edge_band": [0.722, 0.004, 0.2, 0.088]})
    h = check("U4", r, "still changing")
    assert "the edge band and the energy distance still change beyond the noise" in h.answer


def test_headline_U4_no_error_of_few_steps(rec):
    r = with_(rec, **NO_SMALL_T)
    h = check("U4", r, "converged")
    assert h.path == "steps.energy_distance.1" and "no error of few steps shows" in h.answer
    assert "Few steps fail" not in h.answer
    assert "does not show an error of few steps" in full("U4", r)
    # the oracle beyond the floor's spread, with an Euler factor close to the exact one
    r = with_(r, **{"steps.oracle_energy_distance": [0.03, 0.0058]})
    h = check("U4", r, "converged")
    assert "the oracle's too beyond the floor's spread of T = 100's" in h.answer
    assert "exceeds T = 100's by more than the noise floor's spread" in full("U4", r)


def test_headline_U4_single_T(rec):
    r = with_(rec, **{"steps.T_values": [100]})
    for k in ("inside_fraction", "edge_band", "energy_distance"):
        r["steps"][k] = r["steps"][k][-1:]
        r["steps"]["oracle_" + k] = r["steps"]["oracle_" + k][-1:]
    h = check("U4", r, "single T")
    assert h.path == "steps.energy_distance.0" and "Only T = 100 was run" in h.answer
    assert "no dependence on T" in h.answer


def test_headline_U4_unsorted_T_values(rec):
    r = copy.deepcopy(rec)
    for k in list(r["steps"]):
        if isinstance(r["steps"][k], list):
            r["steps"][k] = r["steps"][k][::-1]
    h = check("U4", r, "converged")
    assert h.path == "steps.energy_distance.0" and h.value == 0.0052
    assert "at T = 1 the energy distance is 0.7177" in h.answer


# ---------------------------------------------------------------- U5
def test_headline_U5_met(rec):
    h = check("U5", rec, "met")
    assert h.path == "ablation.improved.learned.energy_distance" and h.value == 0.0024
    assert h.answer.startswith("Heun in σ, ρ-spaced σ, matched prior, final x̂₀ with 21 NFE")
    assert "(exercise: 100) meets all 5 targets" in h.answer
    assert "energy distance 0.00240 vs the exercise's 0.00996" in h.answer
    assert "meets every target" in full("U5", rec)


def test_headline_U5_missed(rec):
    r = with_(rec, **{"ablation.improved.learned.corner_share": 0.01})
    h = check("U5", r, "missed")
    assert "misses 1 of 5 targets (corner share 0.010 vs 0.04)" in h.answer
    assert "misses 1 target (corner share" in full("U5", r)
    r = with_(rec, **{"ablation.improved.learned.inside_fraction": 0.906,
                      "ablation.improved.learned.ks.x.pvalue": 0.01})  # fmt: skip
    h = check("U5", r, "missed")
    assert "misses 2 of 5 targets (≥ 98 % inside: 90.6 %; KS p 0.01, 0.50)" in h.answer
    assert "misses 2 targets" in full("U5", r)
    r = with_(rec, **{"ablation.improved.learned.energy_distance": 0.02})
    h = check("U5", r, "missed")
    assert h.value == 0.02 and "energy distance 0.02000 > floor's p95 0.01191" in h.answer


def test_headline_U5_a_missing_key_is_an_error_naming_it(rec):
    """No silent default: a record without the corner share fails on that key."""
    r = copy.deepcopy(rec)
    del r["ablation"]["improved"]["learned"]["corner_share"]
    with pytest.raises(KeyError, match="corner_share"):
        U.FINDINGS["U5"](r)
