"""Forward process, metrics and training (short budgets)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from genmod.diffusion import metrics as M
from genmod.diffusion import sampling as S
from genmod.diffusion.data import SQUARE, make_square_data
from genmod.diffusion.forward import forward_marginal, forward_trajectory
from genmod.diffusion.models import DenoiserConfig
from genmod.diffusion.schedules import ExpSchedule
from genmod.diffusion.train import TrainConfig, train_denoiser


# ---------------------------------------------------------------- forward process
def test_forward_trajectory_marginals_match_sigma():
    s = ExpSchedule()
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([1.5, -1.2])
    ts, paths = forward_trajectory(x0, s, T=200, generator=g, n_paths=20000)
    assert paths.shape == (201, 20000, 2)
    for k in (0, 50, 120, 200):
        m = paths[k].mean(0)
        v = paths[k].var(0)
        sig2 = float(s.sigma(ts[k])) ** 2
        assert torch.allclose(m, x0.double(), atol=4 * (sig2 / 20000) ** 0.5 + 1e-6)
        assert torch.allclose(v, torch.full((2,), sig2, dtype=v.dtype), rtol=0.05)


def test_forward_trajectory_increments_have_sigma2_differences():
    s = ExpSchedule()
    g = torch.Generator().manual_seed(1)
    ts, paths = forward_trajectory([0.0, 0.0], s, T=20, generator=g, n_paths=40000)
    inc = paths[1:] - paths[:-1]
    want = (s.sigma(ts[1:]) ** 2 - s.sigma(ts[:-1]) ** 2).numpy()
    got = inc.var(1).mean(-1).numpy()
    assert np.allclose(got, want, rtol=0.05)
    # a random walk with variance σ(t)² per step would have far larger total variance
    assert float(paths[-1].var(0).mean()) < 1.1


def test_forward_marginal():
    x0 = torch.zeros(50000, 2)
    xt = forward_marginal(x0, torch.tensor(0.8), generator=torch.Generator().manual_seed(0))
    assert abs(float(xt.std()) - float(ExpSchedule().sigma(torch.tensor(0.8)))) < 0.01


# ---------------------------------------------------------------- metrics
def test_energy_distance_small_for_same_and_large_for_shifted():
    g = torch.Generator().manual_seed(0)
    a = SQUARE.sample(2000, g)[0]
    b = SQUARE.sample(2000, g)[0]
    same = M.energy_distance(a, b)
    shifted = M.energy_distance(a, b + torch.tensor([0.3, 0.0]))
    shrunk = M.energy_distance(a, 0.9 * b)
    assert 0 <= same < 0.003
    assert shifted > 10 * same and shrunk > 3 * same


def test_noise_floor_and_metrics_of_truth():
    fl = M.noise_floor(M.square_truth, n=500, repeats=20, seed=0)
    assert 0 < fl["median"] <= fl["p95"] and len(fl["values"]) == 20
    g = torch.Generator().manual_seed(3)
    x = M.square_truth(20000, g)
    assert M.inside_fraction(x) == 1.0
    assert abs(M.edge_band(x) - 0.19) < 0.01
    ks = M.ks_uniform(x)
    assert ks["x"]["pvalue"] > 0.001 and ks["y"]["pvalue"] > 0.001
    assert M.ks_uniform(0.8 * x)["x"]["pvalue"] < 1e-6
    assert M.inside_fraction(torch.tensor([[0.0, 0.0], [2.0, 0.0]])) == 0.5
    assert M.edge_band(torch.tensor([[0.95, 0.0], [0.0, 0.0]])) == 0.5


# ---------------------------------------------------------------- training + cache
@pytest.fixture(scope="module")
def short_model(tmp_path_factory):
    x0 = make_square_data(500, 0)
    cache = tmp_path_factory.mktemp("cache")
    cfg = DenoiserConfig(hidden=64, n_layers=3)
    tc = TrainConfig(epochs=400, lr=3e-3, seed=0, noise_draws=2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is faster (and fair on a shared CPU)
    try:
        m, hist, from_cache = train_denoiser(cfg, tc, x0, cache_dir=cache, log=lambda s: None)
    finally:
        torch.set_num_threads(threads)
    return m, hist, from_cache, (cfg, tc, x0, cache)


def test_training_loss_decreases_and_cache_reuses(short_model):
    m, hist, from_cache, (cfg, tc, x0, cache) = short_model
    assert not from_cache and len(hist) == tc.epochs
    # predicting ε̂ = 0 scores E‖ε‖² = 2; the trained model must beat it clearly
    assert np.mean(hist[-50:]) < min(1.9, np.mean(hist[:10]) - 0.1)
    m2, hist2, from_cache2 = train_denoiser(cfg, tc, x0, cache_dir=cache, log=lambda s: None)
    assert from_cache2 and hist2 == hist
    x = torch.randn(10, 2)
    with torch.no_grad():
        assert torch.equal(m(x, 0.5), m2(x, 0.5))
    # a different configuration is not served from the cache
    tc3 = TrainConfig(epochs=5, lr=3e-3, seed=1)
    _, _, fc3 = train_denoiser(cfg, tc3, x0, cache_dir=cache, log=lambda s: None)
    assert not fc3


def test_short_trained_model_samples_land_mostly_inside(short_model):
    m = short_model[0]
    z = torch.randn(500, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = S.sample_ddim(m, z, S.time_grid(100), ExpSchedule())
    assert M.inside_fraction(x) > 0.85
