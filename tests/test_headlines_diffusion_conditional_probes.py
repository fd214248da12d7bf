"""Section 02's short answers (headlines) to C6 and the bonus, rendered from their findings:
every verdict on a hand-made record that chooses it, the answer's key words, agreement with the
full answer, and the headline figure read from the record at its path."""

from __future__ import annotations

import pytest
from diffusion_conditional_fixtures import probe
from genmod.sections.diffusion_conditional import answers as A
from probes_findings_fixtures import W, full, record, short


@pytest.fixture
def rec():
    return record()


@pytest.fixture
def rec5(rec):
    """The record with a fifth probe (inside the frame), as the exercise asks for five."""
    p = probe(0.8, 0.8, 4, -7.5, 0.15, -0.8, -0.068)
    rec["probes"].append({**p, "far_bound_perfect": 0.0})
    return rec


def test_registry():
    assert {"C6", "Bonus"} <= set(A.FINDINGS) and {"C6", "Bonus"} <= set(A.QUESTIONS)
    assert not {"C6", "Bonus"} & (set(A.ANSWERS) | set(A.HEADLINES))


def test_headline_C6_class_lower_outside_lower(rec5):
    h = short("C6", rec5, "class lower; outside lower")
    assert h.path == "probes.1.log_prob_bound" and h.reduce is None and h.value == -13.0
    assert h.answer.startswith("A non-matching class lowers −L_T: at (-0.6, 0.3) class 2 scores")
    assert "-13 ± 0.29 against -8 ± 0.14 for the matching class 0" in h.answer
    assert "outside the square -22.6, below every inside point (-8 to -7)" in h.answer
    assert "fewer than the 5" not in h.answer
    text = full("C6", rec5)
    assert "the matching class scores higher" in text
    assert "every inside point above every outside one, beyond the noise" in text


def test_headline_C6_class_higher_and_same(rec5):
    rec5["probes"][1]["log_prob_bound"] = -7.0
    h = short("C6", rec5, "class higher; outside lower")
    assert h.value == -7.0 and "A non-matching class **raises** −L_T" in h.answer
    assert "the non-matching class scores **higher**" in full("C6", rec5)
    rec5["probes"][1]["log_prob_bound"] = -8.1
    h = short("C6", rec5, "class same; outside lower")
    assert "leaves −L_T within the noise" in h.answer
    assert "the two are within the noise" in full("C6", rec5)


def test_headline_C6_class_untested(rec5):
    rec5["probes"][1]["stderr"] = float("nan")
    h = short("C6", rec5, "class untested; outside lower")
    assert "effect cannot be tested: at (-0.6, 0.3) class 2 scores -13 against -8 ± 0.14" in (
        h.answer
    )


def test_headline_C6_class_lower_overlap_and_outside_same(rec5):
    rec5["probes"][3]["log_prob_bound"] = -5.0
    h = short("C6", rec5, "class lower; overlap")
    assert "outside the square (-5) and inside (-8 to -7) overlap" in h.answer
    assert "they overlap" in full("C6", rec5)
    rec5["probes"][3]["log_prob_bound"] = -8.1
    h = short("C6", rec5, "class lower; outside same")
    assert "the highest outside point (-8.1) is within the noise of the lowest" in h.answer
    assert "within the noise of each other" in full("C6", rec5)
    rec5["probes"][3]["stderr"] = float("nan")
    h = short("C6", rec5, "class lower; location untested")
    assert "inside and outside cannot be told apart (no usable error)" in h.answer


def test_headline_C6_class_mixed(rec):
    # a second shared location where the non-matching class scores higher
    p = probe(0.35, 0.25, 3, -2.0, 0.1, 0.0, None, d=0.1, inside=False)
    rec["probes"].append({**p, "far_bound_perfect": -W * 0.01})
    h = short("C6", rec, "class mixed; outside lower")
    assert "moves −L_T either way" in h.answer and "(and 1 more location)" in h.answer
    text = full("C6", rec)
    assert "the matching class scores higher" in text
    assert "the non-matching class scores **higher**" in text


def test_headline_C6_no_pair_location_untested_few_probes(rec):
    rec["probes"] = [rec["probes"][2]]
    h = short("C6", rec, "no pair; location untested")
    assert h.path == "probes.0.log_prob_bound" and h.value == -7.0
    assert "No location is probed under a matching and a non-matching class" in h.answer
    assert "not both inside and outside-the-square probes" in h.answer
    assert "(1 probe, fewer than the 5 asked)" in h.answer
    text = full("C6", rec)
    assert "matching class" not in text and "points outside the square" not in text


def test_headline_C6_no_pair_outside_lower(rec):
    rec["probes"] = [rec["probes"][i] for i in (0, 2, 3)]
    h = short("C6", rec, "no pair; outside lower")
    assert h.path == "probes.2.log_prob_bound" and h.value == -22.6
    assert h.figure == "highest −L_T outside the square"
    assert "(3 probes, fewer than the 5 asked)" in h.answer


# --------------------------------------------------------------------------- Bonus
def test_headline_Bonus_reached_by_inversion(rec):
    h = short("Bonus", rec, "reached")
    assert h.path == "bonus.attempts.2.error" and h.value == 1.7e-6
    assert h.answer.startswith("(4, 5.5) reached (within 0.01) by inverting DDIM")
    assert "log-density -182 under N(0, I), typical -2.84" in h.answer
    assert "at target 4.014, best of 50 5.500, inversion 1.70e-06, chosen noise 4.34e-01" in (
        h.answer
    )
    text = full("Bonus", rec)
    assert "distance of **1.70e-06** from the target — reached." in text
    assert "not within 0.01, with ξ" in text


def test_headline_Bonus_reached_by_other_attempts(rec):
    a0, _, a2, a3 = rec["bonus"]["attempts"]
    a0["error"], a2["error"], a3["error"] = 0.004, 0.5, 0.001
    h = short("Bonus", rec, "reached")
    assert h.path == "bonus.attempts.3.error" and h.value == 0.001
    assert "by starting at the target and choosing the noise;" in h.answer
    assert "its z" not in h.answer
    text = full("Bonus", rec)
    assert "distance **0.004** — reached" in text and "— reached, with ξ" in text


def test_headline_Bonus_not_reached(rec):
    _, _, a2, a3 = rec["bonus"]["attempts"]
    a2["error"], a3["error"] = 0.5, 0.2
    h = short("Bonus", rec, "not reached")
    assert h.path == "bonus.attempts.3.error" and h.value == 0.2
    assert "(4, 5.5) not reached: no attempt ends within 0.01 of it" in h.answer
    assert "inversion 5.00e-01, chosen noise 2.00e-01" in h.answer
    assert "not converged" not in h.answer
    text = full("Bonus", rec)
    assert "— reached" not in text and text.count("not within 0.01") == 2


def test_headline_Bonus_inversion_not_converged_or_overflowed(rec):
    a2 = rec["bonus"]["attempts"][2]
    a2.update(error=1.34e12, inversion_converged=False, inversion_unconverged_steps=1)
    h = short("Bonus", rec, "not reached")
    assert "inversion 1.34e+12 (not converged)" in h.answer
    a2.update(error="nan", z_norm="nan", z_log_prior="nan", distance_to_region="nan",
              start_distance_to_region="nan", inversion_residual="inf")  # fmt: skip
    h = short("Bonus", rec, "not reached")
    assert h.path == "bonus.attempts.3.error"
    assert "best of 50 5.500, inversion overflowed, chosen noise" in h.answer
