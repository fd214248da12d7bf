"""Section 01's findings: each claim on both sides of its comparison, and the answer's
sentences following its claims (rendered through the templates)."""

import copy
import math
import re

import pytest
from diffusion_unconditional_fixtures import NO_SMALL_T, record, sigma_grid, with_
from genmod.sections import findings as F
from genmod.sections.diffusion_unconditional import findings as U
from genmod.sections.summary import headline

U6_RECORD = {
    "steps": {"schedule_rate": 5.0},
    "determinism": {"max_abs_diff": 0.0, "runs": 10, "n_points": 1000, "T": 1000},
    "stochastic": {"lam": 1.0, "max_abs_diff": 1.9, "runs": 10, "mean_spread": 0.35,
                   "inside_fraction": [0.97, 0.99], "n_points": 1000, "max_abs_value": 1.4},
    "trajectories": {
        "ddim": {"path_ratio": 1.02, "end_inside": 4, "identical_to_ddim": True},
        "stochastic": {"path_ratio": 3.1, "end_inside": 4, "identical_to_ddim": False},
        "path_ratio_difference": {"mean": 2.1, "stderr": 0.2, "n": 4},
        "n_points": 4, "start_scale": 1.4, "lam": 1.0,
    },
}  # fmt: skip


def u6(**changes):
    r = copy.deepcopy(U6_RECORD)
    for path, value in changes.items():
        *keys, last = path.split("__")
        node = r
        for k in keys:
            node = node[k]
        node[last] = value
    f = U.u6(r)
    return f, F.render(U.TEMPLATES, f, "full"), F.render(U.TEMPLATES, f, "short")


def test_u6_identical_ddim_and_differing_stochastic_runs_that_wander():
    f, full, short = u6()
    assert f.verdict == "identical" and f.outcomes()["stochastic_longer"] == "more"
    assert "bit-for-bit identical: DDIM is a deterministic map" in full
    assert "the runs differ: max |difference| 1.900" in full
    assert "nearly straight" in full and "longer than the DDIM paths beyond the noise" in full
    assert "+2.10 ± 0.20" in full and "a wider start" in full
    assert short.startswith("Yes: the 10 DDIM outputs") and "they differ (max |Δ| 1.900" in short


def test_u6_lam0_all_identical_and_ddim_paths():
    f, full, short = u6(stochastic__lam=0.0, stochastic__max_abs_diff=0.0,
                        trajectories__stochastic__identical_to_ddim=True)  # fmt: skip
    assert f.verdict == "all identical"
    assert "With λ = 0 the stochastic sampler injects no noise and is DDIM" in full
    assert "The stochastic sampler's paths are the DDIM paths (λ = 0)." in full
    assert "drift" not in full and "identical too" in short


def test_u6_a_blown_up_sampler_is_named_not_described_as_normal():
    """Run r2 of the audit (λ = 25, T = 2): outputs far outside, nothing called balanced."""
    f, full, short = u6(stochastic__lam=25.0, determinism__T=2, stochastic__max_abs_value=27225.0,
                        stochastic__max_abs_diff=27000.0, stochastic__inside_fraction=[0.0, 0.0],
                        trajectories__stochastic__path_ratio=math.inf,
                        trajectories__path_ratio_difference__mean=math.nan)  # fmt: skip
    assert f.verdict == "blew up" and f.outcomes()["step_expands"]
    assert "blew up at T = 2" in full and "|1 − (1 + λ²)·5/T| = 1.56e+03" in full
    assert "balances" not in full and "The stochastic paths blow up too" in full
    assert "too few to judge its shape" in full and "nearly straight" not in full
    assert "blew up" in short
    f, full, _ = u6(stochastic__lam=25.0, determinism__T=2, stochastic__max_abs_value=math.inf)
    assert "some of its outputs are not finite numbers" in full


def test_u6_on_both_sides_of_each_comparison():
    f, full, short = u6(determinism__max_abs_diff=1e-6)
    assert f.verdict == "differ" and "not bit-for-bit identical" in full and short.startswith("No")
    f, full, _ = u6(trajectories__ddim__path_ratio=1.5)
    assert "nearly straight" not in full and "1.50 times as long as the straight line" in full
    f, full, _ = u6(trajectories__path_ratio_difference__mean=0.1)
    assert "within the noise of the DDIM paths' ratio" in full
    f, full, _ = u6(trajectories__path_ratio_difference__mean=-1.0)
    assert "shorter than the DDIM paths beyond the noise" in full
    f, full, _ = u6(trajectories__path_ratio_difference__stderr=math.nan)
    assert "no standard error" in full
    f, full, _ = u6(trajectories__start_scale=1.0)
    assert "wider" not in full
    f, full, short = u6(stochastic__lam=0.5, stochastic__max_abs_diff=0.0)
    assert f.verdict == "all identical" and "the runs are bit-for-bit identical" in full
    assert "with λ = 0.5 the stochastic runs are bit-for-bit identical too" in short
    f, full, short = u6(stochastic__lam=0.0, stochastic__max_abs_diff=0.001)
    assert f.verdict == "identical" and "differ by up to 0.001" in full
    assert "with λ = 0 the stochastic sampler's runs differ by up to 0.001" in short


def test_templates_never_compute():
    """A template only prints figures and branches on claims and verdicts: no arithmetic."""
    for t in U.TEMPLATES.glob("*.j2"):
        for expr in re.findall(r"{[{%]-?(.*?)-?[%}]}", t.read_text(), flags=re.S):
            code = re.sub(r"'[^']*'|\"[^\"]*\"", "", expr)  # string literals aside
            assert not re.search(r"[-+*/%]|\bsum\b|\bmax\b|\bmin\b|\babs\b", code), (t.name, expr)


@pytest.mark.parametrize("lam,T", [(0.0, 1), (1e-6, 1), (1.0, 1), (25.0, 2), (2.0, 1000)])
def test_u6_claims_rederive_from_their_operands(lam, T):
    f, _, _ = u6(stochastic__lam=lam, determinism__T=T)
    assert F.check_claims({"claims": {"U6": [c.to_json() for c in f.claims]}}) == []


# ---------------------------------------------------------------- U1
@pytest.fixture
def rec():
    return record()


def full_u1(r):
    return F.render(U.TEMPLATES, U.u1(r), "full")


def short_u1(r, verdict):
    """The short answer with its verdict and headline figure, as the run records them."""
    f = U.u1(r)
    assert f.verdict == verdict
    assert F.check_claims({"claims": {"U1": [c.to_json() for c in f.claims]}}) == []
    answer = F.render(U.TEMPLATES, f, "short")
    assert "\n" not in answer and len(answer) <= 240, answer
    return headline(r, f.path, f.figure, answer, f.verdict, f.fmt, f.reduce)


def test_answer_u1_variance_and_mean_within_noise(rec):
    text = full_u1(rec)
    assert "1.011 at t = 1" in text and text.count("within the noise, ±") == 2
    assert "stays at x₀ within the noise" in text and "21 at t = 1" in text
    assert "only 0.7 % of their variance" in text and "second half" in text
    assert "0.179 from x₀" in text


def test_answer_u1_variance_and_mean_off(rec):
    text = full_u1(with_(rec, **{"forward.check.var_end": 1.2, "forward.check.mean_err": 0.05}))
    assert "above it by more than two standard errors" in text
    assert "deviates from x₀ by up to 0.050" in text and "stays at x₀" not in text


def test_answer_u1_mean_bound_is_for_the_larger_of_two_coordinates(rec):
    """mean_err is the larger |deviation| of two coordinates: beyond 2 SE (0.032 here) but
    within its 95 % bound (2.24 SE = 0.035) is within the noise; beyond the bound is not."""
    inside = full_u1(with_(rec, **{"forward.check.mean_err": 0.034}))
    assert "stays at x₀ within the noise" in inside and "2.24 standard errors, is 0.035" in inside
    outside = full_u1(with_(rec, **{"forward.check.mean_err": 0.036}))
    assert (
        "deviates from x₀ by up to 0.036" in outside and "(2.24 standard errors, 0.035)" in outside
    )


def test_answer_u1_noise_not_late(rec):
    text = full_u1(with_(rec, **{"forward.check.var_half": 0.8}))
    assert "second half" not in text and "gained 79.1 %" in text


def test_headline_U1_matches(rec):
    h = short_u1(rec, "matches")
    assert h.path == "forward.check.var_end" and h.value == 1.011
    assert "exact marginal" in h.answer and "over 4000 paths" in h.answer
    assert "1.011 at t = 1" in h.answer and "all within the noise" in h.answer


def test_headline_U1_off_mean(rec):
    h = short_u1(with_(rec, **{"forward.check.mean_err": 0.05}), "off")
    assert "both within the noise" in h.answer
    assert "off x₀ by up to 0.050 (> the 95 % bound 0.035)" in h.answer
    assert "exact marginal" not in h.answer
    assert "deviates from x₀" in full_u1(with_(rec, **{"forward.check.mean_err": 0.05}))


def test_headline_U1_off_variance(rec):
    r = with_(rec, **{"forward.check.var_end": 1.2})
    h = short_u1(r, "off")
    assert h.value == 1.2 and "1.200 at t = 1 (σ² 1.000, above σ² by > 2 SE)" in h.answer
    assert "(σ² 0.0067, within the noise)" in h.answer
    assert "stays at x₀ within the noise" in h.answer
    assert "above it by more than two standard errors" in full_u1(r)


def test_headline_U1_untested(rec):
    r = with_(rec, **{"forward.check.n_paths": 1, "forward.check.var_half_stderr": math.nan,
                      "forward.check.var_end_stderr": math.nan})  # fmt: skip
    h = short_u1(r, "untested")
    assert "not testable with one path" in full_u1(r)
    assert "both not testable" in h.answer


# ---------------------------------------------------------------- U2-U5, likelihood
UP = [1.0 + 0.001 * e for e in range(200)]
FLAT = [1.7 + 0.05 * ((-1) ** e) for e in range(200)]
SIGMA_UNIFORM = {"sigma_min": math.exp(-5), **sigma_grid("uniform")}
KARRAS = {"sigma_min": math.exp(-5), "sigma": [1.0] + [0.01] * 19 + [math.exp(-5)]}
ST, SM, AB = "steps.", "samples.", "ablation."
EB, ED = ST + "edge_band", ST + "energy_distance"

#: (question, changes to the record, claim, its outcome, a sentence part printed, one not printed)
SIDES = [
    ("U2", {}, "trend", "less", "The loss falls from 1.978", "rises"),
    ("U2", {"train.loss_history": UP}, "trend", "more", "The loss rises from", "falls"),
    ("U2", {"train.loss_history": FLAT}, "trend", "same", "The loss stays within the noise", None),
    ("U2", {"train.loss_history": [1.9], "train.initial_loss_window": 1,
            "train.final_loss_window": 1}, "trend", "untestable", "cannot be tested", "falls"),
    ("U2", {}, "from_cache", False, "trained in 3.4 s", "cache"),
    ("U2", {"train.from_cache": True}, "from_cache", True, "loaded from the cache", "trained in"),
    ("U2", {}, "mostly_irreducible", True, "most of the loss is the part", None),
    ("U2", {"train.oracle_loss.mean": 0.5}, "mostly_irreducible", False, "of the initial loss;",
     "most of the loss"),
    ("U2", {"train.loss_history": [0.0] * 200}, "share_measured", False, "(20 draws); the",
     "of the initial loss"),
    ("U2", {"train.oracle_loss.stderr": math.nan}, "vs_oracle", "untestable",
     "cannot be compared with this optimum", "within the noise of this optimum"),
    ("U2", {"train.oracle_loss.stderr": math.nan}, "oracle_se_measured", False,
     "scores 1.700 (no standard error)", "1.700 ±"),
    ("U2", {"train.loss_history": [1.9] * 19}, "long_enough", False, None, "90 %"),
    ("U2", {"train.loss_history": UP}, "decreased", False, None, "90 %"),
    ("U2", {}, "progress_reached", True, "90 % of the total decrease is reached by epoch 66", None),
    ("U3", {}, "inside_vs_oracle", "same", "(within the noise; difference -0.2 ± 0.4 points)", None),
    ("U3", {SM + "inside_fraction": 0.958}, "inside_vs_oracle", "less", "(lower; difference", None),
    ("U3", {SM + "edge_band": 0.19}, "edge_vs_oracle", "more", "(higher; +0.076 ± 0.023)", None),
    ("U3", {SM + "std_per_coordinate.oracle": 0.58}, "oracle_spread", "same",
     "the spread is within the noise of the truth's, so this narrower start does not show",
     "come out narrower"),
    ("U3", {SM + "std_per_coordinate.oracle": 0.65}, "oracle_spread", "more",
     "with the oracle 0.650 ± 0.008, wider than the truth's", "come out narrower"),
    ("U3", {SM + "std_per_coordinate.oracle_stderr": math.nan}, "oracle_spread", "untestable",
     "with the oracle 0.522 (no standard error)", "come out narrower"),
    ("U3", {SM + "seeds_edge_band": [0.19] * 9}, "edge_vs_truth", "same",
     "0.190, is within the noise of the truth's 0.19", "thinner"),
    ("U3", {SM + "seeds_edge_band": [0.3] * 9}, "edge_vs_truth", "more", "is thicker than", None),
    ("U3", {SM + "seeds_corner_share": [0.08] * 9}, "corner_vs_truth", "more",
     "more than the truth's 0.04", "less than the truth's"),
    ("U3", {}, "narrow_start", True, "The narrower start is one candidate cause", None),
    ("U3", {SM + "prior_var": 2.0}, "narrow_start", False,
     "The start is not narrower than the marginal", "The narrower start"),
    ("U3", {}, "below_floor", False, "is above the noise floor's 95th", "is below"),
    ("U3", {SM + "energy_distance": 0.005}, "below_floor", True, "is below the noise floor's", None),
    ("U4", {}, "oracle_few_steps", True, "that error at few steps is the sampler's", None),
    ("U4", NO_SMALL_T, "oracle_few_steps", False, "does not show an error of few steps",
     "the sampler's, this Euler step's"),
    ("U4", {**NO_SMALL_T, ST + "oracle_energy_distance": [0.03, 0.0058]}, "euler_off", False,
     "exceeds T = 100's by more than the noise floor's spread", "this Euler step's"),
    ("U4", {**NO_SMALL_T, ST + "oracle_energy_distance": [0.003, 0.2]}, "oracle_few_steps_better",
     True, "is below T = 100's by more than the noise floor's spread (0.00906): fewer steps do "
     "better with the perfect denoiser here", "within the noise floor's spread (0.00906) of"),
    ("U4", NO_SMALL_T, "oracle_few_steps_better", False,
     "is within the noise floor's spread (0.00906) of T = 100's", "fewer steps do better"),
    ("U4", {}, "oracle_edge_flat", "same", "whatever the denoiser, and not the number of steps'",
     None),
    ("U4", {ST + "oracle_edge_band": [0.916, 0.0, 0.03, 0.114]}, "oracle_edge_flat", "less",
     "whatever the denoiser (U5", "not the number of steps'"),
    ("U4", NO_SMALL_T, "overshoot.0", False, "+0.90 for T = 50 instead of 0.9048", "flips"),
    ("U4", {}, "overshoot.1", False, "+0.00 for T = 5 instead of 0.3679.", None),
    ("U4", {ST + "T_values": [1, 2, 20, 100]}, "overshoot.1", True,
     "-1.50 for T = 2 instead of 0.0821 (negative", None),
    ("U4", {ST + "oracle_edge_band": [0.916, 0.0, 0.1, 0.3]}, "oracle_edge_vs_truth", "more",
     "0.300, is thicker than the truth's 0.19", "whatever the denoiser"),
    ("U4", {ED: [0.7177, 0.1095, 0.0062, 0.03]}, "learned_ed_vs_oracle", "more",
     "energy distance above the oracle's. Part of the remaining error is the network's.", None),
    ("U4", {EB: [0.722, 0.004, 0.2, 0.2]}, "learned_edge_further", False,
     "edge band is above the oracle's (0.200) and its energy distance within the noise of the "
     "oracle's.", "network's"),
    ("U4", {EB: [0.722, 0.004, 0.3, 0.3]}, "learned_edge_further", True,
     "Part of the remaining error is the network's.", None),
    ("U4", {EB: [0.722, 0.09, 0.08, 0.088]}, "edge_settles_early", True,
     "The edge band is within the noise of its T = 100 value from T = 5 on, and the energy "
     "distance within the noise floor's spread (0.00906) of it from T = 20 on.", None),
    ("U4", {EB: [0.722, 0.09, 0.08, 0.088], ED: [0.7177, 0.1095, 0.03, 0.0052]}, "ed_settles",
     False, "value from T = 5 on. Between", "of it from T"),
    ("U4", NO_SMALL_T, "collapse", False, None, "squeezed"),
    ("U4", {"samplers_summary.heun_karras.min_nfe_within_floor": None}, "reach.heun_karras",
     False, "not within the measured NFE for Heun in σ, ρ-spaced σ, matched prior, final x̂₀.", None),
    ("U5", {AB + "improved.learned.inside_fraction": 0.906}, "target_inside", False,
     "It misses 1 target (at least 98 % inside)", "meets every"),
    ("U5", {AB + "improved.learned.energy_distance": 0.02}, "target_floor", False,
     "(energy distance below the noise floor's 95th percentile)", None),
    ("U5", {AB + "improved.learned.edge_band": 0.1}, "target_edge", "less",
     "(edge band within the noise of the truth's)", None),
    ("U5", {AB + "improved.learned.ks.x.pvalue": 0.01}, "target_ks_x", False,
     "(both marginals passing the KS test at 5 %)", None),
    ("U5", {AB + "improved.learned.ks.y.pvalue": 0.01}, "target_ks_y", False,
     "only the x marginal passes", None),
    ("U5", {AB + "improved.learned.corner_share": 0.1}, "target_corner", "more",
     "(corner share within the noise of the truth's)", None),
    ("U5", {AB + "matched_prior.learned.energy_distance": 0.03}, "prior_ed", "more",
     "0.00996 → 0.03000 (higher)", None),
    ("U5", {AB + "matched_prior_final_denoise.learned.inside_fraction": 0.99},
     "final_network_inside", "more", "with the network (more inside)", None),
    ("U5", {AB + "matched_prior_final_denoise.learned.outside_median_distance": None}, "left_far",
     False, None, "a median"),
    ("U5", {AB + "matched_prior_final_denoise.oracle.inside_fraction": 0.918},
     "oracle_more_inside", "same", "cannot pull them in.", "the oracle puts more inside"),
    ("U5", {AB + "final_denoise.learned.edge_band": 0.19}, "final_alone_vs_exercise", "more",
     "(above the exercise's 0.088", None),
    ("U5", {"schedules.modified": dict(SIGMA_UNIFORM)}, "grid_moves", False,
     "(every step divides σ by 1.284).", "moves"),
    ("U5", {"schedules.modified": KARRAS}, "grid_moves_from", False,
     "moves 11 of the steps to the noise levels", None),
    ("U5", {"samplers.heun_karras.nfe": [], "samplers.heun_karras.energy_distance": []},
     "study_compared", False, "Energy distance at about 9 evaluations", "at about the same cost"),
    ("U5", {"samplers_summary.heun_karras.min_nfe_within_floor": None}, "heun_reaches", False,
     "does not reach Euler-in-t's distance within the measured NFE", "comes within"),
    ("U5", {AB + "improved.learned.energy_distance": 0.02}, "improved_vs_euler", "more",
     "(higher; see the study in U4)", None),
    ("likelihood", {"likelihood.variants.eq9.prior_kl_mean": -0.005}, "prior_kl_positive", False,
     "(mean ≈ 0; estimate -0.005)", "(mean -0"),
    ("likelihood", {"likelihood.variants.eq9.full_bound_minus_ode.stderr": math.nan},
     "bound_vs_ode", "untestable", "-0.660 from the ODE density", "below the ODE"),
]  # fmt: skip


@pytest.mark.parametrize("qid,changes,name,outcome,said,unsaid", SIDES)
def test_each_claim_on_each_side(qid, changes, name, outcome, said, unsaid):
    r = with_(record(), **changes)
    f = U.FINDINGS[qid](r)
    assert f.outcomes()[name] == outcome
    assert F.check_claims({"claims": {qid: [c.to_json() for c in f.claims]}}) == []
    text = F.render(U.TEMPLATES, f, "full")
    assert said is None or said in text, text
    assert unsaid is None or unsaid not in text, text


def test_u2_progress_epoch_not_reached():
    """The running mean never makes 90 % of a decrease it does not contain: no epoch (NaN)."""
    from genmod.sections.diffusion_unconditional.findings_u2 import progress_epoch

    epoch, w = progress_epoch([2.0] * 30, first=2.5, final=1.0)
    assert math.isnan(epoch) and w == 3
    assert progress_epoch([2.0] * 10 + [1.0] * 20, first=2.0, final=1.0) == (13.0, 3)


def test_section_modules_stay_small():
    """No findings or answers module of the section over 400 lines, no function over 60."""
    import ast

    folder = U.TEMPLATES.parent
    for path in [folder / "answers.py", *folder.glob("findings*.py")]:
        source = path.read_text()
        assert len(source.splitlines()) <= 400, path.name
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno < 60, (path.name, node.name)
