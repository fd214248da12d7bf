"""Section 01's findings: each claim on both sides of its comparison, and the answer's
sentences following its claims (rendered through the templates)."""

import copy
import math
import re

import pytest
from diffusion_unconditional_fixtures import record, with_
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
