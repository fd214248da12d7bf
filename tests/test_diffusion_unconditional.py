"""Section 01's science and workflow: parameter validation, sampler specs, NFE, runs, the
metrics of a sample, the forward check and the oracle's loss."""

from __future__ import annotations

import types

import pytest
import torch
from genmod.diffusion import metrics as M
from genmod.diffusion import samplers as SP
from genmod.diffusion.data import SQUARE
from genmod.diffusion.forward import forward_check, forward_trajectory
from genmod.diffusion.models import Denoiser, DenoiserConfig
from genmod.diffusion.oracle import Oracle, oracle_loss
from genmod.diffusion.schedules import ExpSchedule
from genmod.runtime import Streams
from genmod.sections.diffusion_unconditional import config as CFG
from genmod.sections.diffusion_unconditional import workflow as W

BASE = dict(
    device="cpu",
    seed=0,
    profile="smoke",
    results_path="r.json",
    cache_dir=None,
    retrain=False,
    n_points=None,
    epochs=None,
    T=None,
    T_values=None,
    lam=None,
    forward_start=None,
)


def test_parameters_are_the_notebooks():
    assert tuple(BASE) == CFG.PARAMETERS
    assert CFG.settings("smoke") is CFG.SETTINGS["smoke"]
    assert "smoke" in CFG.profiles_table("smoke") and "**smoke**" in CFG.profiles_table("smoke")


def test_resolve_fills_profile_and_keeps_overrides():
    p = CFG.resolve_params(BASE)
    assert p["n_points"] == CFG.PROFILES["smoke"]["n_points"] and p["cache_dir"] is None
    p = CFG.resolve_params({**BASE, "profile": "default", "epochs": 7, "T_values": [1, 3.0]})
    assert p["epochs"] == 7 and p["T_values"] == [1, 3] and p["T"] == 1000
    assert set(CFG.PROFILES) == {"smoke", "default", "full"}
    assert all(set(v) == set(CFG.PROFILES["default"]) for v in CFG.PROFILES.values())


@pytest.mark.parametrize(
    "key,value,match",
    [
        ("profile", "fast", "profile"),
        ("n_points", -3, "n_points"),
        ("epochs", 1.5, "epochs"),
        ("T", 0, "T="),
        ("T_values", [], "T_values"),
        ("T_values", [1, "a"], "T_values"),
        ("lam", -1.0, "lam"),
        ("forward_start", [0.5, 0.5], "outside the square"),
        ("forward_start", [2.0], "forward_start"),
        ("device", "tpu", "device"),
        ("retrain", "yes", "retrain"),
        ("cache_dir", 3, "cache_dir"),
    ],
)
def test_bad_parameters_fail_with_one_line_error_naming_them(key, value, match):
    with pytest.raises(ValueError, match=match) as e:
        CFG.resolve_params({**BASE, key: value})
    assert "\n" not in str(e.value)


def test_sampler_spec_nfe_matches_counted_nfe():
    o = Oracle(SQUARE, ExpSchedule())
    z = SP.draw_noise(20, 0)
    for spec in [*SP.STUDY_SPECS.values(), SP.EXERCISE]:
        for budget in (3, 9, 17):
            steps = spec.steps_for_nfe(budget)
            _, nfe = SP.run(o, spec, z, steps)
            assert nfe == spec.nfe(steps) <= budget


def test_matched_prior_has_the_true_t1_spread():
    mean, std = SP.prior_params(SP.IMPROVED, ExpSchedule())
    assert abs(std**2 - 4 / 3) < 1e-9 and abs(mean).max() < 1e-12


def test_seed_batches_equal_separate_runs():
    m = Denoiser(DenoiserConfig(hidden=16, n_layers=2))
    z, x = SP.sample_seeds(m, [3, 4], 30, 10)
    x3, _ = SP.run(m, SP.EXERCISE, SP.draw_noise(30, 3), 10)
    assert torch.equal(z[0], SP.draw_noise(30, 3))
    assert torch.allclose(x[0], x3, atol=1e-5)


def test_repeat_runs_ddim_identical_stochastic_different():
    m = Denoiser(DenoiserConfig(hidden=16, n_layers=2))
    z = SP.draw_noise(20, 1)
    assert M.max_abs_diff(SP.repeat_runs(m, z, 20, 3)) == 0.0
    assert M.max_abs_diff(SP.repeat_runs(m, z, 20, 3, lam=1.0, seed=2)) > 0.01
    # λ = 0 is DDIM: the "stochastic" runs are bit-for-bit identical too
    assert M.max_abs_diff(SP.repeat_runs(m, z, 20, 3, lam=0.0, seed=2)) == 0.0


def test_trajectories_lam0_are_the_ddim_paths_and_path_ratio():
    m = Denoiser(DenoiserConfig(hidden=16, n_layers=2))
    z = SP.draw_noise(4, 5) * 1.4
    t_d, xs_d = SP.trajectories(m, z, 10)
    t_s, xs_s = SP.trajectories(m, z, 10, lam=0.0, seed=3)
    assert torch.equal(xs_d, xs_s) and xs_d.shape == (11, 4, 2) and t_d[0] == 1.0
    assert torch.equal(xs_d[0], z)
    straight = torch.stack([torch.zeros(3, 2), torch.ones(3, 2)])
    assert M.path_ratios(straight) == [1.0, 1.0, 1.0] and M.path_ratio(straight) == 1.0
    zigzag = torch.tensor([[[0.0, 0.0]], [[1.0, 1.0]], [[2.0, 0.0]]])
    assert abs(M.path_ratio(zigzag) - 2**0.5) < 1e-12


def test_sampler_study_with_oracle_improves_with_nfe(monkeypatch):
    o = Oracle(SQUARE, ExpSchedule())
    floor = M.noise_floor(M.square_truth, n=300, repeats=10, seed=0)
    monkeypatch.setattr(SP, "STUDY_SPECS", {"ddim": SP.IMPROVED})
    s = W.Setup({}, Streams(0, W.STREAMS), ExpSchedule(), o, None, 300, floor)
    out = W.sampler_study(types.SimpleNamespace(study_nfe=[3, 21]), s, W.Trained({}, o), "cpu")
    study = out.study
    rec = study["ddim"]
    assert rec["nfe"] == [3, 21]
    assert rec["energy_distance"][1] < rec["energy_distance"][0]
    assert out.records["samplers"] is study
    reach = out.records["samplers_summary"]
    assert reach == W.study_reach(study, floor)
    assert reach["ddim"]["min_nfe_within_floor"] in (3, 21) and reach["reference_nfe"] == 21
    assert W.min_nfe_within(rec, -1.0) is None
    # each step's evaluator draws its truth samples from its own stream, whatever ran before
    x = M.square_truth(300, torch.Generator().manual_seed(9))
    first = s.evaluator("evaluator_u4")(x)["energy_distance"]
    s.evaluator("evaluator")(x)
    assert s.evaluator("evaluator_u4")(x)["energy_distance"] == first
    assert s.evaluator("evaluator_u5")(x)["energy_distance"] != first


def test_evaluator_metrics_of_a_sample():
    floor = M.noise_floor(M.square_truth, n=200, repeats=5, seed=0)
    ev = M.Evaluator(floor, torch.Generator().manual_seed(0), 200)
    m = ev(torch.tensor([[0.0, 0.0], [1.5, 0.0], [0.0, -1.1], [0.9, -0.85]]))
    assert abs(m["inside_fraction"] - 0.5) < 1e-12
    assert abs(m["outside_median_distance"] - 0.3) < 1e-6
    assert m["corner_share"] == 0.25  # only (0.9, −0.85) lies in a corner square
    assert M.outside_median_distance(torch.zeros(3, 2)) is None


def test_corner_share_and_spread_of_the_truth():
    x = M.square_truth(40000, torch.Generator().manual_seed(1))
    assert abs(M.corner_share(x) - M.TRUTH_CORNER_SHARE) < 0.005
    assert (
        M.corner_share(torch.tensor([[1.1, 1.1], [0.85, 0.95]])) == 0.5
    )  # outside is not a corner
    sp = M.spread(x)
    assert abs(sp["std"] - (1 / 3) ** 0.5) < 3 * sp["stderr"] and 0 < sp["stderr"] < 0.003
    assert sp["n"] == 40000 and abs(M.truth_edge_band() - 0.19) < 1e-12


def test_forward_check_and_oracle_loss():
    s = ExpSchedule()
    ts, paths = forward_trajectory(
        [1.5, 1.5], s, T=100, n_paths=3000, generator=torch.Generator().manual_seed(0)
    )
    chk = forward_check(ts, paths, [1.5, 1.5], s)
    assert abs(chk["var_end"] - 1.0) < 0.08 and chk["random_walk_var_end"] > 5
    # the standard errors of the checks: σ²·√(1/(n − 1)), and the larger coordinate's bound
    assert chk["var_end_stderr"] == pytest.approx(chk["sigma2_end"] / 2999**0.5)
    assert chk["var_half_stderr"] == pytest.approx(chk["sigma2_half"] / 2999**0.5)
    assert chk["mean_err_bound"] == pytest.approx(2.2365 * (chk["sigma2_end"] / 3000) ** 0.5, 1e-4)
    # a correct SDE: the largest coordinate deviation of the mean within the 95 % bound
    assert chk["mean_err"] < chk["mean_err_bound"]
    shifted = forward_check(ts, paths + 0.2, [1.5, 1.5], s)  # a drifting process
    assert shifted["mean_err"] > shifted["mean_err_bound"]
    x0 = SQUARE.sample(500, torch.Generator().manual_seed(0))[0]
    best = oracle_loss(Oracle(SQUARE, s), x0, s, draws=4, seed=0)
    assert 1.4 < best["mean"] < 1.9  # below E‖ε‖² = 2: the oracle predicts part of ε


@pytest.mark.slow
def test_likelihood_check_records_the_density_and_solver():
    o = Oracle(SQUARE, ExpSchedule())
    lk = W.likelihood_check(o, o, ExpSchedule(), n_grid=2, tol=1e-3)
    for k in ("learned_matched", "oracle_matched", "learned_standard", "oracle_standard"):
        assert lk[k]["density"] == W.ODE_DENSITY and lk[k]["solver"]["method"]
        assert len(lk[k]["values"]) == 4 == lk["n_points"]
        assert abs(lk[k]["mean"] - lk["truth"]) < 0.5  # the oracle's density inside the square
    for k in ("learned_matched_denoised", "oracle_matched_denoised"):
        if k in lk:  # where the science gives the density of the x̂₀-returning sampler
            assert lk[k]["density"] == W.DENOISED_DENSITY
    assert lk["margin"] == 0.2 and abs(lk["truth"] + 1.3862943611198906) < 1e-12


def test_sampler_study_figure_labels_its_reference_from_the_study():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from genmod.diffusion.plots import plot_sampler_study

    curve = {"nfe": [5, 33], "energy_distance": [0.1, 0.02], "inside_fraction": [0.9, 0.99]}
    study = {"ddim": {**curve, "label": "Euler in t (DDIM)"},
             "heun": {**curve, "label": "Heun in σ", "nfe": [9, 65]}}  # fmt: skip
    floor = {"values": [0.001, 0.002], "p95": 0.002, "median": 0.0015}
    fig = plot_sampler_study(study, floor, reference="ddim")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "reference: Euler in t (DDIM) at 33 NFE" in labels  # the smoke profile's last T
    plt.close(fig)
