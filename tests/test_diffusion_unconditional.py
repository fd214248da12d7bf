"""Section 01 helpers: parameter validation, sampler specs, NFE, the notebook's workflows."""

from __future__ import annotations

import pytest
import torch
from genmod.diffusion import metrics as M
from genmod.diffusion import unconditional as U
from genmod.diffusion.data import SQUARE
from genmod.diffusion.models import Denoiser, DenoiserConfig
from genmod.diffusion.oracle import Oracle
from genmod.diffusion.schedules import ExpSchedule

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


def test_resolve_fills_profile_and_keeps_overrides():
    p = U.resolve_params(BASE)
    assert p["n_points"] == U.PROFILES["smoke"]["n_points"] and p["cache_dir"] is None
    p = U.resolve_params({**BASE, "profile": "default", "epochs": 7, "T_values": [1, 3.0]})
    assert p["epochs"] == 7 and p["T_values"] == [1, 3] and p["T"] == 1000
    assert set(U.PROFILES) == {"smoke", "default", "full"}
    assert all(set(v) == set(U.PROFILES["default"]) for v in U.PROFILES.values())


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
        U.resolve_params({**BASE, key: value})
    assert "\n" not in str(e.value)


def test_sampler_spec_nfe_matches_counted_nfe():
    o = Oracle(SQUARE, ExpSchedule())
    z = U.draw_noise(20, 0)
    for spec in [*U.STUDY_SPECS.values(), U.EXERCISE]:
        for budget in (3, 9, 17):
            steps = spec.steps_for_nfe(budget)
            _, nfe = U.run(o, spec, z, steps)
            assert nfe == spec.nfe(steps) <= budget


def test_matched_prior_has_the_true_t1_spread():
    mean, std = U.prior_params(U.IMPROVED, ExpSchedule())
    assert abs(std**2 - 4 / 3) < 1e-9 and abs(mean).max() < 1e-12


def test_seed_batches_equal_separate_runs():
    m = Denoiser(DenoiserConfig(hidden=16, n_layers=2))
    z, x = U.sample_seeds(m, [3, 4], 30, 10)
    x3, _ = U.run(m, U.EXERCISE, U.draw_noise(30, 3), 10)
    assert torch.equal(z[0], U.draw_noise(30, 3))
    assert torch.allclose(x[0], x3, atol=1e-5)


def test_repeat_runs_ddim_identical_stochastic_different():
    m = Denoiser(DenoiserConfig(hidden=16, n_layers=2))
    z = U.draw_noise(20, 1)
    assert U.max_abs_diff(U.repeat_runs(m, z, 20, 3)) == 0.0
    assert U.max_abs_diff(U.repeat_runs(m, z, 20, 3, lam=1.0, seed=2)) > 0.01


def test_sampler_study_with_oracle_improves_with_nfe():
    o = Oracle(SQUARE, ExpSchedule())
    floor = M.noise_floor(M.square_truth, n=300, repeats=10, seed=0)
    study = U.sampler_study(o, {"heun": U.IMPROVED}, [3, 21], 300, 0, floor)
    rec = study["heun"]
    assert rec["nfe"] == [3, 21]
    assert rec["energy_distance"][1] < rec["energy_distance"][0]
    reach = U.study_reach(study, rec["energy_distance"][1], floor)
    assert reach["heun"]["min_nfe_within_floor"] in (3, 21)


def test_first_T_and_evaluator():
    assert U.first_T([1, 2, 5, 10, 20], [0.1, 0.9, 0.3, 0.95, 0.8], lambda v: v > 0.4) == 10
    assert U.first_T([1, 2], [0.1, 0.2], lambda v: v > 0.4) is None
    floor = M.noise_floor(M.square_truth, n=200, repeats=5, seed=0)
    ev = U.Evaluator(floor, torch.Generator().manual_seed(0), 200)
    m = ev(torch.tensor([[0.0, 0.0], [1.5, 0.0], [0.0, -1.1]]))
    assert abs(m["inside_fraction"] - 1 / 3) < 1e-12
    assert abs(m["outside_median_distance"] - 0.3) < 1e-6


def test_forward_check_and_oracle_loss():
    from genmod.diffusion.forward import forward_trajectory

    s = ExpSchedule()
    ts, paths = forward_trajectory(
        [1.5, 1.5], s, T=100, n_paths=3000, generator=torch.Generator().manual_seed(0)
    )
    chk = U.forward_check(ts, paths, [1.5, 1.5], s)
    assert abs(chk["var_end"] - 1.0) < 0.08 and chk["random_walk_var_end"] > 5
    x0 = SQUARE.sample(500, torch.Generator().manual_seed(0))[0]
    best = U.oracle_loss(Oracle(SQUARE, s), x0, s, draws=4, seed=0)
    assert 1.4 < best["mean"] < 1.9  # below E‖ε‖² = 2: the oracle predicts part of ε


def test_u4_answer_is_rendered_from_the_numbers():
    Tv = [1, 5, 100]
    L = [
        {"inside_fraction": 0.13, "edge_band": 0.9, "energy_distance": 0.9},
        {"inside_fraction": 1.0, "edge_band": 0.0, "energy_distance": 0.14},
        {"inside_fraction": 0.993, "edge_band": 0.115, "energy_distance": 0.004},
    ]
    floor = {"median": 0.002, "p95": 0.005}
    reach = {
        "reference": 0.002,
        "tolerance": 0.005,
        "x": {"label": "Heun", "min_nfe_within_floor": 9},
    }
    text = U.u4_answer(Tv, L, L, floor, reach, 1001)
    assert "13.0 %" in text and "-4.00 for T = 1" in text
    assert "at T = 5, 100.0 % are inside but only 0.000" in text  # the collapse is called out
    assert "Heun: 9 NFE" in text
