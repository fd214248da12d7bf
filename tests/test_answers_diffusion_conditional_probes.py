"""Section 02's C6 (probe estimates) and bonus answers, rendered from their findings' templates
for hand-built records: every comparative sentence on both sides of its claim, the templates
free of arithmetic."""

from __future__ import annotations

import copy
import math
import re

import pytest
from diffusion_conditional_fixtures import per_class
from genmod.sections.diffusion_conditional import answers as A
from probes_findings_fixtures import full, outcomes, record


# --------------------------------------------------------------------------- C6
def test_c6_matching_class_pair_each_way():
    rec = record()
    text = full("C6", rec)
    assert outcomes("C6", rec)["pair_0_1"] == "more"
    assert "(the matching class scores higher, difference 5 nats" in text
    assert "lies 0.800 from that class's region" in text
    assert "a perfect denoiser's −L_T would be ≈ −W_T·d² = -7413 nats" in text
    rec["probes"][1]["log_prob_bound"] = -7.0
    assert outcomes("C6", rec)["pair_0_1"] == "less"
    assert "the non-matching class scores **higher**" in full("C6", rec)
    rec["probes"][1]["log_prob_bound"] = -8.1
    assert outcomes("C6", rec)["pair_0_1"] == "same"
    assert "the two are within the noise" in full("C6", rec)
    rec["probes"][1]["stderr"] = math.nan
    assert outcomes("C6", rec)["pair_0_1"] == "untestable"
    assert "not testable: no usable standard error" in full("C6", rec)


def test_c6_perfect_denoiser_uses_the_finite_T_weight():
    """Audit item 4: −L_T ≈ −W_T·d² with the run's T, not the T → ∞ limit."""
    rec = record()
    rec["eq9"] = {"T": 3, "weight": 89_307.6, "weight_limit": W_LIMIT}
    for p in rec["probes"]:
        p["far_bound_perfect"] = -89_307.6 * p["distance_to_region"] ** 2
    text = full("C6", rec)
    assert "W_T = ∫₀¹ (T/2)(SNR(t − 1/T) − SNR(t)) dt = 89,308 at T = 3" in text
    assert "(SNR(0) − SNR(1))/2 = 11,013 is smaller by a factor 8.11" in text
    assert "#3 (d = 1.414): -22.6 vs ≈ -1.786e+05" in text
    assert "−(SNR(0) − SNR(1))·d²/2" not in text


def test_c6_pair_on_the_region_edge_has_no_perfect_denoiser_term():
    rec = record()
    rec["probes"][1]["distance_to_region"] = 0.0
    assert outcomes("C6", rec)["pair_0_1_off"] is False
    assert "Under class 2 the point lies" not in full("C6", rec)


def test_c6_inside_against_outside_each_way():
    rec = record()
    text = full("C6", rec)
    assert "Inside points score −L_T between -8 and -7; points outside the square -22.6 (" in text
    assert "every inside point above every outside one, beyond the noise" in text
    assert "#3 (d = 1.414): -22.6 vs ≈ -2.316e+04" in text
    rec["probes"][3]["log_prob_bound"] = -5.0
    assert outcomes("C6", rec)["in_vs_out"] == "less" and "they overlap" in full("C6", rec)
    rec["probes"][3]["log_prob_bound"] = -8.1
    assert "within the noise of each other" in full("C6", rec)
    rec["probes"][3]["stderr"] = math.nan
    assert "cannot be compared: no usable standard error" in full("C6", rec)


def test_c6_no_probe_off_its_region():
    rec = record()
    rec["probes"] = [rec["probes"][i] for i in (0, 2)]
    out = outcomes("C6", rec)
    assert out["any_off"] is False and out["both_kinds"] is False
    text = full("C6", rec)
    assert "−L_T ≈ −W_T·d²" not in text and "Measured against" not in text
    assert "Inside points score" not in text


def test_c6_bound_against_the_ode_density_each_way():
    rec = record()
    text = full("C6", rec)
    assert "−L_T is below the PF-ODE density beyond the noise at probes #0, #1, #2, #3." in text
    assert "no contradiction" not in text and outcomes("C6", rec)["above_ode"] is False
    rec["probes"][3]["exact_log_prob"] = -30.0  # −L_T above the ODE density, outside
    rec["probes"][2]["exact_log_prob"] = -7.1  # within the noise, inside
    text = full("C6", rec)
    assert "−L_T is **above** the PF-ODE density at probe #3 (outside its region)." in text
    assert "−L_T is within the noise of the PF-ODE density at probe #2." in text
    assert "no contradiction" in text
    rec["probes"][0]["exact_log_prob"] = -9.0
    assert "#0 (in its region)" in full("C6", rec)


def test_c6_full_bound_against_the_truth_each_way():
    rec = record()
    text = full("C6", rec)
    # #0: full bound −8.0 + 7.16 − 0.16 = −1.0 vs −0.788 (se 0.14): within; #2: 0.16 vs 2.4: below
    assert "the value is below it at #2; within the noise of it at #0" in text
    assert "#0: +0.21, #2: +2.25" in text and "−L_T is below it at #0, #2" in text
    rec["probes"][2]["log_prob_bound"] = 3.0  # −L_T above the truth 2.408, beyond its noise
    assert "−L_T is below it at #0; **above** it at #2" in full("C6", rec)
    rec = record()
    rec["probes"][0]["truth"] = -3.0
    assert "**above** it at #0" in full("C6", rec)


def test_c6_gap_share_each_way():
    rec = record()
    text = full("C6", rec)
    assert outcomes("C6", rec)["gap_positive"] is True
    assert "the two terms it leaves out (recon − KL) average 7.08 nats, 96 % of that gap" in text
    for p in rec["probes"]:
        p["exact_log_prob"] = p["log_prob_bound"] - 1.0
    assert outcomes("C6", rec)["gap_positive"] is False
    text = full("C6", rec)
    assert " of that gap" not in text
    assert "−L_T lies on average 1.00 nats above the PF-ODE density, not below it" in text


def test_c6_interior_table_and_solver():
    rec = record()
    text = full("C6", rec)
    assert "density of the continuous-time probability-flow ODE's output at t = 0" in text
    assert "adaptive dopri5 solver of torchdiffeq (rtol 1e-06, atol 1e-06, float64)" in text
    assert "within 0.15 nats of the truth for 0 of 5 classes" in text
    assert "ODE + x̂₀" not in text and outcomes("C6", rec)["denoised"] is False
    rec["likelihood"]["interior_mean_exact_denoised"] = per_class([-0.7, 1.1, 2.4, 1.0, -0.1])
    rec["likelihood"]["interior_denoised"] = copy.deepcopy(rec["likelihood"]["interior"])
    rec["likelihood"]["solver"] = {"method": "rk4", "n_steps": 10, "dtype": "float32"}
    text = full("C6", rec)
    assert "ODE + x̂₀ (improved sampler)" in text and "sampler's density for 5 of 5" in text
    assert "rk4 with 10 fixed steps (float32)" in text
    rec["likelihood"]["solver"] = {}
    assert "RK4 with 10 steps" in full("C6", rec)


def test_c6_heat_map_tolerance_stated_only_when_looser():
    rec = record()
    assert outcomes("C6", rec)["grid_solver_same"] is True
    assert "The heat maps, their medians" not in full("C6", rec)
    rec["likelihood"]["grid_solver"].update(rtol=1e-4, atol=1e-4)
    assert outcomes("C6", rec)["grid_solver_looser"] is True
    assert "use a looser tolerance — the adaptive dopri5 solver of torchdiffeq (rtol 0.0001" in (
        full("C6", rec)
    )
    rec["likelihood"]["grid_solver"].update(rtol=1e-8, atol=1e-8)
    assert "use another solver — the adaptive dopri5 solver" in full("C6", rec)


def test_c6_oracle_within_noise_within_tolerance_and_beyond():
    rec = record()
    text = full("C6", rec)
    assert "within two standard errors of the truth for classes 0, 1, 2, 4" in text
    assert "beyond the solver's tolerance, atol + rtol·|log p|, for class 3 (2.1e-06) (its" in text
    assert "its prior is the moment-matched Gaussian" in text
    rec["likelihood"]["interior_oracle"]["3"]["mean"] = 1.079
    text = full("C6", rec)
    assert "for classes 0, 1, 2, 3, 4;" not in text and "beyond them" not in text
    assert "for classes 0, 1, 2, 3, 4." in text and "moment-matched Gaussian, not" not in text


def test_c6_oracle_residual_at_the_solver_tolerance_is_within_it():
    """Audit item 14: a residual beyond two (tiny) standard errors but at or below the solver's
    tolerance (atol + rtol·|log p|) is within the tolerance, not blamed on the prior."""
    rec = record()
    o = rec["likelihood"]["interior_oracle"]["2"]
    o.update(mean=o["truth"] + 3e-6, stderr=1e-7)  # tolerance 1e-6 + 1e-6·2.408 = 3.4e-6
    out = outcomes("C6", rec)
    assert out["oracle_2"] == "more" and out["oracle_2_solver"] is True
    text = full("C6", rec)
    assert "beyond them but within the solver's tolerance (atol + rtol·|log p|) for class 2" in text
    o["mean"] = o["truth"] + 1.1e-5  # the measured r3/r4 residual: beyond the tolerance
    assert outcomes("C6", rec)["oracle_2_solver"] is False
    assert "for class 2 (3.4e-06), class 3 (2.1e-06) (its prior" in full("C6", rec)


def test_c6_no_inside_probe_and_inf_strings():
    rec = record()
    rec["probes"] = [p for p in rec["probes"] if not p["in_distribution"]]
    assert outcomes("C6", rec)["any_inside"] is False
    text = full("C6", rec)
    assert "no probe lies inside its region; the largest standard error is 0.410 nats" in text
    assert "Against the true log density" not in text and "prior term" not in text
    text = full("C6", record())
    assert "truth: -0.788 / −∞." in text and "-inf" not in text and "| −∞ |" in text


# --------------------------------------------------------------------------- Bonus
def test_bonus_measured_distances():
    rec = record()
    text = full("Bonus", rec)
    assert "Target (4, 5.5), far outside the square: 5.408 from it, more than 3σ(1) = 3." in text
    assert "class 4 (frame), the region nearest to it (at distance 5.408)" in text
    assert "distance **4.014**" in text  # the notebook test looks for this number
    assert "carried this start 3.997 closer to the data" in text
    assert "no closer than the region's nearest point" in text
    assert "which converged at every step (last relative change at most 4.0e-07" in text
    assert "distance of **1.70e-06** from the target — reached." in text
    assert "2.79 times farther from the origin" in text and "by a factor 0.308" in text
    assert "would scale it by about Π|1 + σ̇Δt/σ| = 0.00592 over these 100 Euler steps" in text
    assert "σ(0)/σ(1) = 0.0067 is the continuous-time value" in text
    assert "not within 0.01, with ξ of rms 14.5" in text and "(reached)." in text


def test_bonus_other_branches():
    rec = record()
    a0, a1, a2, a3 = rec["bonus"]["attempts"]
    a0["distance_to_region"] = 6.0
    a1["error"] = 5.2  # closer than the region's nearest point
    a2["error"] = 0.5
    a3["error"] = 0.001
    rec["bonus"]["other_target"]["reached"] = False
    rec["bonus"]["nearest_training_distance"] = None
    out = outcomes("Bonus", rec)
    assert not out["a0_closer"] and out["a1_beats_region"] and not out["class_has_points"]
    text = full("Bonus", rec)
    assert "did not end closer to the data" in text
    assert "the best sample is 0.208 closer than the region's nearest point, so it lies" in text
    assert "nearest training point" not in text
    assert "**5.00e-01** from the target — not within 0.01." in text
    assert "— reached, with ξ" in text and "(not within 0.01)." in text


def test_bonus_target_inside_the_data():
    """Audit item 10: a target in a class's region is not called far."""
    rec = record(bonus__target=[0.3, -0.2], bonus__target_distance_to_region=0.0)
    rec["bonus"]["target_distance_to_data"] = 0.0
    rec["bonus"]["attempts"][0]["error"] = 0.004
    out = outcomes("Bonus", rec)
    assert out["in_region"] and out["in_square"] and not out["far"]
    text = full("Bonus", rec)
    assert "Target (0.3, -0.2), inside the square: class 4's (frame) region holds it" in text
    assert "far" not in text.split("Attempts")[0]
    assert "The start lies in the region" in text and "distance **0.004** — reached" in text
    assert "The target lies in class 4's region, and the nearest training point of class 4" in text
    assert "nearest point of class 4's region" not in text and "scales the distance" not in text


def test_bonus_target_near_the_square_is_not_far():
    rec = record(bonus__target=[-3.0, 2.5])
    rec["bonus"].update(target_distance_to_region=2.5, target_distance_to_data=2.5)
    assert not outcomes("Bonus", rec)["far"]
    text = full("Bonus", rec)
    assert "Target (-3, 2.5), outside the square but near it: 2.500 from it, within 3σ(1) = 3" in (
        text
    )
    assert "A perfect denoiser" not in text


def r4_like(**inv) -> dict:
    """Run r4's bonus (T = 3, target (−40, 40)): the inversion did not converge."""
    rec = record(bonus__target=[-40.0, 40.0])
    b = rec["bonus"]
    b.update(target_distance_to_region=55.154, target_distance_to_data=55.154,
             perfect_denoiser_scale=0.2963)  # fmt: skip
    rec["params"]["T"] = 3
    a2 = b["attempts"][2]
    a2.update({"error": 1.3446e12, "z": [-3.0414e12, 2.124e10], "z_norm": 3.0415e12,
               "z_log_prior": -4.6e24, "distance_to_region": 1.3446e12,
               "start_distance_to_region": 3.0415e12, "inversion_iterations": 50,
               "inversion_residual": 0.37, "inversion_unconverged_steps": 1,
               "inversion_converged": False, "inversion_contraction": 5 / 3, **inv})  # fmt: skip
    b["other_target"].update(error=7.2e10, reached=False, inversion_converged=False)
    return rec


def test_bonus_inversion_that_did_not_converge_says_so():
    """Audit items 2 and 3 (run r4): no 'inverted exactly', the contraction named, and no
    continuous-time shrink factor for a perfect denoiser's overshooting steps."""
    rec = r4_like()
    out = outcomes("Bonus", rec)
    assert not out["a2_converged"] and not out["a2_contracts"] and out["overshoot"]
    text = full("Bonus", rec)
    assert "exactly" not in text
    assert "which did not converge at 1 of 3 steps (last relative change 0.37 after 50" in text
    assert "σ̇|Δt|/σ = 1.67 per iteration at T = 3, which is not below 1: there it would" in text
    assert "**1.34e+12** from the target — not within 0.01" in text
    assert "would carry the point past that nearest point at each of these 3 Euler steps" in text
    assert "would shrink it" not in text and "scale it by about" not in text
    assert "(not within 0.01; the fixed-point iteration did not converge)." in text


def test_bonus_inversion_that_contracts_but_stopped_early():
    rec = r4_like(inversion_contraction=0.9)
    out = outcomes("Bonus", rec)
    assert out["a2_contracts"] and not out["overshoot"]
    text = full("Bonus", rec)
    assert (
        "1.67" not in text
        and "= 0.9 per iteration, below 1; this one did not converge within 50" in text
    )
    assert "scale it by about Π|1 + σ̇Δt/σ| = 0.296 over these 3 Euler steps" in text


def test_bonus_inversion_that_overflowed():
    rec = r4_like(z=[math.nan, math.nan], z_norm="nan", error="nan", z_log_prior="nan",
                  distance_to_region="nan", start_distance_to_region="nan",
                  inversion_residual="inf", inversion_unconverged_steps=3)  # fmt: skip
    rec["bonus"]["other_target"]["error"] = "nan"
    out = outcomes("Bonus", rec)
    assert not out["a2_z_finite"] and not out["a2_error_finite"] and not out["other_finite"]
    text = full("Bonus", rec)
    assert "which overflowed at 3 of 3 steps" in text and "no finite start z" in text
    assert "It gives z" not in text and "nan" not in text
    assert "(-3, 2.5) with class 0: it overflowed, giving no finite output." in text


def test_bonus_choose_the_noise_that_diverged():
    rec = record()
    rec["bonus"]["attempts"][3]["error"] = "nan"
    assert not outcomes("Bonus", rec)["a3_finite"]
    assert "→ the optimisation diverged" in full("Bonus", rec)


# --------------------------------------------------------------------------- templates
@pytest.mark.parametrize("name", ["c6.full", "c6.short", "bonus.full", "bonus.short"])
def test_templates_never_compute(name):
    """A template only prints figures and branches on claims and verdicts: no arithmetic."""
    text = (A.TEMPLATES / f"{name}.md.j2").read_text()
    for expr in re.findall(r"{[{%]-?(.*?)-?[%}]}", text, flags=re.S):
        code = re.sub(r"'[^']*'|\"[^\"]*\"", "", expr)  # string literals aside
        assert not re.search(r"[-+*/%]|\bsum\b|\bmax\b|\bmin\b|\babs\b", code), (name, expr)


W_LIMIT = (math.exp(10) - 1) / 2


def test_c6_ranges_that_print_as_one_value_and_more_claims():
    rec = record()
    rec["probes"] = [rec["probes"][i] for i in (0, 3)]
    out = outcomes("C6", rec)
    assert out["in_span_one"] and out["out_span_one"]
    assert "Inside points score −L_T = -8; points outside the square -22.6 (" in full("C6", rec)
    rec = record()
    far = {**rec["probes"][3], "x": 3.0, "log_prob_bound": -30.0}
    rec["probes"].append(far)
    assert not outcomes("C6", rec)["out_span_one"]
    assert "points outside the square between -30 and -22.6 (" in full("C6", rec)
    rec["likelihood"]["interior_mean_exact"]["0"] = -0.788
    assert outcomes("C6", rec)["within_0"] is True
    assert "within 0.15 nats of the truth for 1 of 5 classes" in full("C6", rec)
    rec["probes"][1]["stderr"] = math.nan
    assert "cannot be tested against the PF-ODE density at probe #1 (no usable" in full("C6", rec)


def test_bonus_remaining_branches():
    rec = record(bonus__target=[0.0, 0.0])
    rec["bonus"].update(target_distance_to_region=0.0, target_distance_to_data=0.0)
    a1, a2 = rec["bonus"]["attempts"][1:3]
    a1["error"] = 0.005
    a2.update(start_distance_to_region=0.0, error="nan", distance_to_region="nan")
    out = outcomes("Bonus", rec)
    assert not out["off_origin"] and out["a1_reached"] and not out["start_off_region"]
    assert out["a2_z_finite"] and not out["a2_error_finite"]
    text = full("Bonus", rec)
    assert "distance **0.005** — reached." in text and "times farther" not in text
    assert "DDIM from that z overflows: its output is not a finite point." in text
    rec = record()
    rec["bonus"]["attempts"][2]["start_distance_to_region"] = 0.0
    assert "scales the distance" not in full("Bonus", rec)
