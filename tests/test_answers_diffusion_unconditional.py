"""Section 01's answers: every comparative sentence on a record where it holds and on one
where it flips (small hand-made records)."""

from __future__ import annotations

import copy
import math

import pytest
from diffusion_unconditional_fixtures import NO_SMALL_T, record, sigma_grid, with_
from genmod.sections import findings as F
from genmod.sections.diffusion_unconditional import answers as A
from genmod.sections.diffusion_unconditional import findings as U


def full(qid: str, r: dict) -> str:
    """``qid``'s full answer for ``r``, rendered from its finding, whose claims re-derive."""
    f = U.FINDINGS[qid](r)
    assert F.check_claims({"claims": {qid: [c.to_json() for c in f.claims]}}) == []
    return F.render(U.TEMPLATES, f, "full")


@pytest.fixture
def rec():
    return record()


def test_answer_registry_has_every_id():
    """Every answer of the section is a finding with a full template."""
    assert A.ANSWERS == {} and A.HEADLINES == {}
    assert set(A.FINDINGS) == {"floor", "U1", "U2", "U3", "U4", "U5", "likelihood", "U6"}
    r = record()
    for qid in A.FINDINGS:
        assert full(qid, r), qid


# ---------------------------------------------------------------- floor, U1
def test_answer_floor_numbers(rec):
    text = full("floor", rec)
    assert "500 vs 500" in text and "0.00285" in text and "0.01191" in text and "20 repeats" in text


# ---------------------------------------------------------------- U2
def test_answer_u2_falls_and_most_irreducible(rec):
    text = full("U2", rec)
    assert (
        "The loss falls from" in text and "10498 parameters" in text and "trained in 3.4 s" in text
    )
    assert "most of the loss is the part that no denoiser" in text
    assert "1 draw of (t, ε)" in text and "1.700 ± 0.020" in text


def test_answer_u2_rises_and_flat(rec):
    up = [1.0 + 0.001 * e for e in range(200)]
    assert "The loss rises" in full("U2", with_(rec, **{"train.loss_history": up}))
    flat = [1.7 + 0.05 * ((-1) ** e) for e in range(200)]
    text = full("U2", with_(rec, **{"train.loss_history": flat}))
    assert "stays within the noise" in text and "falls" not in text


def test_answer_u2_oracle_share_small(rec):
    text = full(
        "U2", with_(rec, **{"train.oracle_loss": {"mean": 0.5, "stderr": 0.01, "draws": 20}})
    )
    assert "most of the loss" not in text and "of the initial loss;" in text
    assert "above this optimum" in text  # the network's final loss is far above 0.5


def test_answer_u2_final_vs_oracle(rec):
    final = rec["train"]["final_loss"]
    same = with_(rec, **{"train.oracle_loss": {"mean": final, "stderr": 0.02, "draws": 20}})
    assert "within the noise of this optimum" in full("U2", same)
    below = with_(rec, **{"train.oracle_loss": {"mean": final + 0.2, "stderr": 0.01, "draws": 20}})
    text = full("U2", below)
    assert "below it" in text and "fits those points themselves" in text and "500 training" in text


def test_answer_u2_one_epoch_and_cache(rec):
    r = with_(rec, **{"train.loss_history": [1.9], "train.initial_loss_window": 1,
                      "train.final_loss_window": 1, "train.from_cache": True})  # fmt: skip
    text = full("U2", r)
    assert "cannot be tested" in text and "falls" not in text and "rises" not in text
    assert "loaded from the cache" in text and "90 %" not in text


# ---------------------------------------------------------------- U3
def test_answer_u3_learned_equal_to_oracle(rec):
    text = full("U3", rec)
    assert "as good as the perfect denoiser" in text and "is the sampler's" in text
    assert "measurably worse" not in text


def test_answer_u3_learned_worse_than_oracle(rec):
    text = full("U3", with_(rec, **{"samples.inside_fraction": 0.958}))
    assert "measurably worse than the perfect denoiser" in text
    assert "is the sampler's" not in text and "as good as" not in text
    assert "95.8 % vs 99.6 % (lower" in text
    assert f"{100 * rec['samples']['oracle_inside_fraction']:.1f} %" in text


def test_answer_u3_learned_differs_from_oracle(rec):
    text = full("U3", with_(rec, **{"samples.edge_band": 0.19}))
    assert "differs measurably" in text and "as good as" not in text and "worse" not in text


def test_answer_u3_spread_narrower_than_truth(rec):
    text = full("U3", rec)
    assert "0.523 ± 0.003, narrower than the truth's 0.577" in text
    assert "thinner than the truth's 0.19" in text and "less than the truth's 0.04" in text
    assert "with the perfect denoiser, too, the samples come out narrower" in text
    assert "1.333 per coordinate" in text and "U5's ablation measures each" in text


def test_answer_u3_learned_wider_oracle_narrower_has_no_too(rec):
    """Audit run r7 (one epoch): the learned samples wider than the truth, the oracle's
    narrower: the oracle's narrowing is not said to hold 'too'."""
    text = full("U3", with_(rec, **{"samples.std_per_coordinate.learned": 0.993}))
    assert "wider than the truth's 0.577" in text
    assert "with the perfect denoiser the samples come out narrower than the truth" in text
    assert ", too," not in text


def test_answer_u3_spread_equal_to_truth(rec):
    r = with_(
        rec,
        **{
            "samples.std_per_coordinate.learned": 0.576,
            "samples.std_per_coordinate.oracle": 0.58,
            "samples.seeds_edge_band": [0.19] * 9,
            "samples.seeds_corner_share": [0.04] * 9,
        },
    )
    text = full("U3", r)
    assert "narrower than" not in text and "thinner" not in text and "less than" not in text
    assert "within the noise of the truth's 0.577" in text
    assert "does not show at this sample size" in text


def test_answer_u3_energy_distance_vs_floor(rec):
    assert "is above the noise floor's 95th percentile" in full("U3", rec)
    assert "is below the noise floor's" in full(
        "U3", with_(rec, **{"samples.energy_distance": 0.005})
    )


def test_answer_u3_table(rec):
    t = A.u3_table(rec)
    assert (
        "learned, seed 0" in t and "oracle (same z as seed 0)" in t and "truth (fresh sample)" in t
    )
    assert "99.4 %" in t and "0.01220" in t


# ---------------------------------------------------------------- U4
def test_answer_u4_euler_factor_sign(rec):
    text = full("U4", rec)
    assert "1 + σ̇·dt/σ = 1 − 5/T" in text and "1 − σ̇·dt/σ" not in text
    assert "-4.00 for T = 1 instead of 0.0067" in text and "+0.00 for T = 5" in text
    assert "flips the noise part's sign" in text
    assert "error at few steps is the sampler's" in text


def test_answer_u4_collapse_and_study(rec):
    text = full("U4", rec)
    assert "31.2 %" in text and "at T = 5, 99.8 % are inside but only 0.004" in text
    assert "3 NFE for Heun in σ, ρ-spaced σ, matched prior, final x̂₀" in text and "33 NFE" in text


def test_answer_u4_without_a_small_T(rec):
    r = with_(rec, **NO_SMALL_T)
    text = full("U4", r)
    assert "error at few steps is the sampler's" not in text and "Few steps fail" not in text
    assert "does not show an error of few steps" in text and "+0.90 for T = 50" in text
    assert "no longer reduce the error" in text and "flips" not in text


def test_answer_u4_single_T(rec):
    r = with_(rec, **{"steps.T_values": [100]})
    for k in ("inside_fraction", "edge_band", "energy_distance"):
        r["steps"][k] = r["steps"][k][-1:]
        r["steps"]["oracle_" + k] = r["steps"]["oracle_" + k][-1:]
    text = full("U4", r)
    assert "Only one number of steps was run, T = 100" in text and "no dependence on T" in text
    assert "no longer reduce" not in text and "few steps" not in text and "still change" not in text


def test_answer_u4_still_changing_and_network_error(rec):
    text = full(
        "U4", rec
    )  # 20 → 100: the edge band is flat, the energy distance is not? (0.0062→0.0052)
    assert "no longer reduce the error" in text  # both within the noise here
    r = with_(rec, **{"steps.energy_distance": [0.7177, 0.1095, 0.03, 0.0052]})
    text = full("U4", r)
    assert "the energy distance (0.03000 → 0.00520) still changes beyond the noise" in text
    assert "no longer reduce" not in text and "not the number of steps'" not in text
    r = with_(rec, **{"steps.edge_band": [0.722, 0.004, 0.02, 0.03]})
    text = full("U4", r)
    assert "Part of the remaining error is the network's." in text
    assert "Part of the remaining error is the network's." not in full("U4", rec)


def test_answer_u4_a_network_closer_to_the_truth_than_the_oracle_is_not_blamed(rec):
    """Audit run r1: the learned model's energy distance below the oracle's."""
    oracle = list(rec["steps"]["oracle_energy_distance"])
    r = with_(rec, **{"steps.oracle_energy_distance": oracle[:-1] + [0.5]})
    text = full("U4", r)
    assert "The network is closer to the truth than the oracle here." in text
    assert "the remaining error is the network's" not in text


def test_answer_u4_oracle_matches_truth(rec):
    assert "the sampler's whatever the denoiser" in full("U4", rec)
    r = with_(rec, **{"steps.oracle_edge_band": [0.916, 0.0, 0.1, 0.19]})
    text = full("U4", r)
    assert "within the noise of the truth's 0.19" in text
    assert "the sampler's whatever the denoiser" not in text


def test_answer_u4_unsorted_T_values(rec):
    r = copy.deepcopy(rec)
    for k in list(r["steps"]):
        if isinstance(r["steps"][k], list):
            r["steps"][k] = r["steps"][k][::-1]
    text = full("U4", r)
    assert text.startswith("With T = 1:") and "with T = 100:" in text


def test_answer_u4_table(rec):
    t = A.u4_table(rec)
    assert t.count("\n") == 5 and "31.2 %" in t and "0.71770" in t
    assert "Heun in σ" in A.study_table(rec)


# ---------------------------------------------------------------- U5
def test_answer_u5_meets_targets(rec):
    text = full("U5", rec)
    assert "meets every target and fills the square to its edges and corners" in text
    assert "corner squares hold 0.038" in text and "misses" not in text


def test_answer_u5_misses_targets(rec):
    r = with_(rec, **{"ablation.improved.learned.corner_share": 0.01})
    text = full("U5", r)
    assert "fills the square" not in text
    assert "misses 1 target (corner share within the noise of the truth's)" in text
    r = with_(rec, **{"ablation.improved.learned.inside_fraction": 0.906})
    assert "at least 98 % inside" in full("U5", r)


def test_answer_u5_rule1_prior(rec):
    text = full("U5", rec)
    assert "moment-matched Gaussian" in text and "not Gaussian" in text
    assert "0.088 → 0.148 with the network (closer to the truth)" in text
    r = with_(rec, **{"ablation.matched_prior.learned.edge_band": 0.09,
                      "ablation.matched_prior.oracle.edge_band": 0.115})  # fmt: skip
    text = full("U5", r)
    assert "closer to the truth" not in text.split("2. *")[0]
    assert "(within the noise) and 0.114 → 0.115" in text
    assert "Not supported by these numbers.\n2." in text


def test_answer_u5_rule2_final_step(rec):
    text = full("U5", rec)
    assert "98.8 % → 100.0 % with the oracle (more inside)" in text
    assert "a median 0.244 outside" in text and "network's own error" in text
    assert "does not undo the narrow prior's shrink" in text
    r = with_(rec, **{"ablation.matched_prior_final_denoise.oracle.inside_fraction": 0.988,
                      "ablation.matched_prior_final_denoise.learned.outside_median_distance": 0.005,
                      "ablation.final_denoise.learned.edge_band": 0.19})  # fmt: skip
    text = full("U5", r)
    assert "(more inside)" not in text and "a median" not in text
    assert "does not undo" not in text and "within the noise of the truth's" in text
    assert "Not supported by these numbers.\n3." in text


def test_answer_u5_a_rule_is_supported_only_as_far_as_both_denoisers_show_it(rec):
    """Audit runs r7 and r2: the oracle moved closer to the truth while the network moved
    away or did not move: not plainly 'Supported.'"""

    def rule1(**changes):
        return full("U5", with_(rec, **changes)).split("1. *")[1].split("2. *")[0].strip()

    net, orc = "ablation.matched_prior.learned.edge_band", "ablation.matched_prior.oracle.edge_band"
    assert rule1().endswith("Supported.")  # both closer to the truth beyond the noise
    assert rule1(**{net: 0.09}).endswith(
        "Supported with the perfect denoiser; with the network the change is within the noise."
    )
    assert rule1(**{orc: 0.115}).endswith(
        "Supported with the network only; with the perfect denoiser it is not."
    )
    assert rule1(**{orc: 0.115, net: 0.02}).endswith("Not supported by these numbers.")
    away = with_(rec, **{"ablation.matched_prior.learned.edge_band": 0.02})
    rule1 = full("U5", away).split("1. *")[1].split("2. *")[0]
    assert "further from the truth" in rule1
    assert (
        "Supported with the perfect denoiser only: with the network it goes the other way." in rule1
    )


def test_answer_u5_rule3_oracle_check(rec):
    text = full("U5", with_(rec, **{"ablation.exercise.learned.inside_fraction": 0.99}))
    assert "0.114, thinner than the truth's (an error of the sampler" in text
    assert "as good as the sampler allows" in text
    r = with_(rec, **{"ablation.exercise.learned.inside_fraction": 0.9})
    assert "adds its own error on top of the sampler's" in full("U5", r)
    r = with_(rec, **{"ablation.exercise.oracle.edge_band": 0.19})
    assert "an error of the sampler" not in full("U5", r)


def test_answer_u5_rule4_integrator(rec):
    text = full("U5", rec)
    assert "at about the same cost: lower" in text and text.endswith("Supported.")
    assert (
        "comes within the noise floor's spread of Euler-in-t's 33-evaluation distance at 3" in text
    )
    r = copy.deepcopy(rec)
    r["samplers"]["ddim"]["energy_distance"][1] = 0.005
    text = full("U5", r)
    assert "at about the same cost: within the noise" in text
    assert text.endswith("Not supported by these numbers at this budget.")


def test_answer_u5_grids(rec):
    text = full("U5", rec)
    assert "already geometric in σ" in text and "moves 2 of the steps from" in text
    r = with_(rec, **{"schedules.original": {"sigma_min": math.exp(-5), **sigma_grid("karras")}})
    assert "geometric" not in full("U5", r)


def test_answer_u5_table(rec):
    t = A.u5_table(rec)
    assert t.count("\n") == 6 and "matched prior, final x̂₀ | 101" in t


# ---------------------------------------------------------------- likelihood
def test_answer_likelihood_wording(rec):
    text = full("likelihood", rec)
    assert "continuous-time probability-flow ODE's output at t = 0" in text
    assert "not the T-step Euler sampler's, and not the improved sampler's" in text
    assert "exact likelihood of" not in text and "improved sampler's distribution" not in text
    assert "adaptive dopri5 solver (rtol 1e-06, atol 1e-06, float64)" in text
    assert "only when the denoiser is perfect and the prior matches the marginal" in text
    assert "below the ODE density" in text and "moment-matched" in text
    assert "x̂₀ of that output" in text and "(mean 0.36)" in text


def test_answer_likelihood_fixed_steps_and_denoised(rec):
    r = with_(rec, **{"likelihood.solver": {"method": "rk4", "n_steps": 20, "dtype": "float32"}})
    lk = r["likelihood"]["variants"]
    lk["learned_matched_denoised"] = copy.deepcopy(lk["learned_matched"])
    text = full("likelihood", r)
    assert "20 fixed RK4 steps in float32" in text and "x̂₀ of that output" in text


def test_answer_likelihood_prior_comparison(rec):
    assert "within the noise of the matched prior's" in full("likelihood", rec)
    r = copy.deepcopy(rec)
    r["likelihood"]["variants"]["learned_standard"]["values"] = [-1.3, -1.2, -1.24, -1.36]
    text = full("likelihood", r)
    assert "higher than the matched prior's" in text and "denser inside" in text
    r["samples"]["std_per_coordinate"]["learned"] = 0.577
    assert "denser inside" not in full("likelihood", r)


def test_answer_likelihood_bound_within_noise(rec):
    r = with_(
        rec, **{"likelihood.variants.eq9.full_bound_minus_ode": {"mean": -0.05, "stderr": 0.1}}
    )
    assert "within the noise of the ODE density" in full("likelihood", r)


def test_answer_u5_ks_counts_the_marginals_that_pass(rec):
    px, py = "ablation.improved.learned.ks.x.pvalue", "ablation.improved.learned.ks.y.pvalue"
    assert "and both marginals pass the KS test" in full("U5", rec)
    assert "and only the x marginal passes the KS" in full("U5", with_(rec, **{py: 0.01}))
    assert "and only the y marginal passes the KS" in full("U5", with_(rec, **{px: 0.0}))
    text = full("U5", with_(rec, **{px: 0.0, py: 0.001}))
    assert "and neither marginal passes the KS" in text and "partly" not in text
    assert "the KS test against U(−1, 1) at 5 %" in full("U5", rec) and "partly" not in full(
        "U5", rec
    )


def test_answer_u4_few_steps_fail_only_where_the_learned_model_fails_too(rec):
    """Audit run r7 (one epoch): the oracle fails at T = 1, the learned model is no worse there
    than at the largest T: neither the answer nor the headline says few steps fail 'too'."""
    from test_headlines_diffusion_unconditional import check

    assert "With the oracle, too, the sample at T = 1" in full("U4", rec)
    assert check("U4", rec, "converged").answer.startswith("Few steps fail")
    flat = [0.0052] * len(rec["steps"]["energy_distance"])
    r = with_(rec, **{"steps.energy_distance": flat})
    text = full("U4", r)
    assert "With the oracle the sample at T = 1" in text and "its own error hides" in text
    h = check("U4", r, "converged")
    assert not h.answer.startswith("Few steps fail")
    assert "the oracle's sample is further from the truth" in h.answer


def test_answer_u2_one_epoch_says_the_trend_cannot_be_tested(rec):
    """Audit: epochs = 1 printed 'The loss not testable (too few values) from 2.034 … to 2.034'."""
    r = with_(rec, **{"train.loss_history": [2.034], "train.epochs": 1,
                      "train.initial_loss_window": 1, "train.final_loss_window": 1})  # fmt: skip
    text = full("U2", r)
    assert "The loss's trend cannot be tested with 1 epoch: it is 2.034" in text
    assert "The loss not testable" not in text
    assert "The loss falls from" in full("U2", rec)
