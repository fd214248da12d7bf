"""Section 02's C6 (probe estimates) and bonus answers against hand-built records."""

from __future__ import annotations

import copy

from diffusion_conditional_fixtures import (
    make_record,
    per_class,
)
from genmod.sections.diffusion_conditional import answers_probes as A


def test_answer_c6_matching_class_pair_each_way():
    text = A.c6(make_record())
    assert "the matching class scores higher, difference 5 nats" in text
    assert "lies 0.800 from that class's region" in text and "-7048 nats" in text
    rec = make_record()
    rec["probes"][1]["log_prob_bound"] = -7.0
    text = A.c6(rec)
    assert "the non-matching class scores **higher**" in text
    rec["probes"][1]["log_prob_bound"] = -8.1
    assert "the two are within the noise" in A.c6(rec)


def test_answer_c6_inside_against_outside_each_way():
    text = A.c6(make_record())
    assert "every inside point above every outside one, beyond the noise" in text
    assert "#3 (d = 1.414): -22.6 vs ≈ -2.2" in text
    rec = make_record()
    rec["probes"][3]["log_prob_bound"] = -5.0
    assert "they overlap" in A.c6(rec)
    rec["probes"][3]["log_prob_bound"] = -8.1
    assert "within the noise of each other" in A.c6(rec)


def test_answer_c6_bound_against_the_ode_density_each_way():
    text = A.c6(make_record())
    assert "below the PF-ODE density beyond the noise at probes #0, #1, #2, #3" in text
    assert "**above**" not in text.split("Probe by probe")[1].split("Against")[0]
    assert "no contradiction" not in text
    rec = make_record()
    rec["probes"][3]["exact_log_prob"] = -30.0  # −L_T above the ODE density, outside
    rec["probes"][2]["exact_log_prob"] = -7.1  # within the noise, inside
    text = A.c6(rec)
    assert "**above** it at probe #3 (outside its region)" in text
    assert "within the noise of it at probe #2" in text and "no contradiction" in text
    rec["probes"][0]["exact_log_prob"] = -9.0
    assert "#0 (in its region)" in A.c6(rec)


def test_answer_c6_full_bound_against_the_truth_each_way():
    text = A.c6(make_record())
    # #0: full bound −8.0 + 7.16 − 0.16 = −1.0 vs −0.788 (se 0.14): within; #2: 0.16 vs 2.4: below
    assert "the value is below it at #2; within the noise of it at #0" in text
    assert "#0: +0.21, #2: +2.25" in text
    assert "−L_T is below it at #0, #2" in text
    rec = make_record()
    rec["probes"][2]["log_prob_bound"] = 3.0  # −L_T above the truth 2.408, beyond its noise
    assert "−L_T is below it at #0; **above** it at #2" in A.c6(rec)
    rec = make_record()
    rec["probes"][0]["truth"] = -3.0
    assert "**above** it at #0" in A.c6(rec)
    assert "(a negative number" not in A.c6(rec)
    assert "loose by about" not in A.c6(rec)


def test_answer_c6_gap_share_each_way():
    text = A.c6(make_record())
    assert "the two terms it leaves out (recon − KL) average 7.08 nats" in text
    assert " of that gap" in text
    rec = make_record()
    for p in rec["probes"]:
        p["exact_log_prob"] = p["log_prob_bound"] - 1.0
    text = A.c6(rec)
    assert " of that gap" not in text and "average -1.00 nats below" in text


def test_answer_c6_interior_table_and_solver():
    text = A.c6(make_record())
    assert "density of the continuous-time probability-flow ODE's output at t = 0" in text
    assert "adaptive dopri5 solver of torchdiffeq (rtol 1e-06, atol 1e-06, float64)" in text
    assert "exact likelihood of" not in text and "deterministic sampler" not in text
    assert "within 0.15 nats of the truth for 0 of 5 classes" in text
    assert "ODE + x̂₀" not in text
    rec = make_record()
    rec["likelihood"]["interior_mean_exact_denoised"] = per_class([-0.7, 1.1, 2.4, 1.0, -0.1])
    rec["likelihood"]["interior_denoised"] = copy.deepcopy(rec["likelihood"]["interior"])
    rec["likelihood"]["solver"] = {"method": "rk4", "n_steps": 10, "dtype": "float32"}
    text = A.c6(rec)
    assert "ODE + x̂₀ (improved sampler)" in text and "sampler's density for 5 of 5" in text
    assert "rk4 with 10 fixed steps (float32)" in text
    rec["likelihood"]["solver"] = {}
    for p in rec["probes"]:
        p["solver"] = {}
    assert "RK4 with 10 steps" in A.c6(rec)


def test_answer_c6_oracle_within_and_beyond():
    text = A.c6(make_record())
    assert "within two standard errors of the truth for classes 0, 1, 2, 4" in text
    assert "beyond them for class 3" in text
    rec = make_record()
    rec["likelihood"]["interior_oracle"]["3"]["mean"] = 1.079
    text = A.c6(rec)
    assert "for classes 0, 1, 2, 3, 4 (" in text and "beyond them" not in text


def test_answer_c6_no_inside_probe_and_inf_strings():
    rec = make_record()
    rec["probes"] = [p for p in rec["probes"] if not p["in_distribution"]]
    text = A.c6(rec)
    assert "no probe lies inside its region" in text and "Against the true log density" not in text
    assert "truth: -0.788 / −∞." in A.c6(make_record()) and "-inf" not in A.c6(make_record())


# --------------------------------------------------------------------------- Bonus
def test_answer_bonus_measured_distances():
    text = A.bonus(make_record())
    assert "class 4 (frame), the region nearest to it (at distance 5.408)" in text
    assert "distance **4.014**" in text  # the notebook test looks for this number
    assert "carried this start 3.997 closer to the data" in text
    assert "no closer than the region's nearest point" in text
    assert "pulls any start" not in text
    assert "— reached." in text and "1.70e-06" in text
    assert "2.79 times farther from the origin" in text and "factor 0.308" in text
    assert "not within 0.01, with ξ of rms 14.5" in text and "(reached)." in text


def test_answer_bonus_other_branches():
    rec = make_record()
    a0, a1, a2, a3 = rec["bonus"]["attempts"]
    a0["distance_to_region"] = 6.0
    a1["error"] = 5.2  # closer than the region's nearest point
    a2["error"] = 0.5
    a3["error"] = 0.001
    rec["bonus"]["other_target"]["reached"] = False
    text = A.bonus(rec)
    assert "did not end closer to the data" in text
    assert (
        "0.208 closer than the region's nearest point (that sample lies outside the region)" in text
    )
    assert "— not within 0.01." in text and "— reached, with ξ" in text
    assert "(not within 0.01)." in text


def test_answer_bonus_target_inside_the_data():
    rec = make_record(bonus__target=[0.0, 0.0], bonus__target_distance_to_region=0.0)
    rec["bonus"]["attempts"][0]["error"] = 0.004
    text = A.bonus(rec)
    assert "(frame), whose region holds it" in text
    assert "The start lies in the region" in text and "distance **0.004** — reached" in text
    assert "the target lies in class 4's region and the nearest training point of class 4" in text
    assert "nearest point of class 4's region" not in text
    assert "times farther from the origin" not in text and "shrinks the distance" not in text


def test_answer_c6_heat_map_tolerance_stated_only_when_looser():
    rec = make_record()
    assert "looser tolerance" not in A.c6(rec)
    rec["likelihood"]["grid_solver"] = dict(rec["likelihood"]["solver"])
    assert "looser tolerance" not in A.c6(rec)
    rec["likelihood"]["grid_solver"].update(rtol=1e-4, atol=1e-4)
    text = A.c6(rec)
    assert "use a looser tolerance: the adaptive dopri5 solver of torchdiffeq (rtol 0.0001" in text
