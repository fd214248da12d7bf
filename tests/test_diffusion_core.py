"""Unit tests of the diffusion package contract: data, schedules, oracle, denoiser, samplers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from genmod.diffusion import sampling as S
from genmod.diffusion.data import SQUARE, Partition, make_square_data
from genmod.diffusion.models import Denoiser, DenoiserConfig
from genmod.diffusion.oracle import Oracle, log_ndtr_diff
from genmod.diffusion.schedules import ExpSchedule, GeometricSchedule

STRIPS = Partition(
    (
        ((-1.0, 1.0, -1.0, -0.2),),
        ((-1.0, 0.0, -0.2, 1.0), (0.5, 1.0, 0.6, 1.0)),
        ((0.0, 0.5, -0.2, 1.0), (0.5, 1.0, -0.2, 0.6)),
    )
)


# ---------------------------------------------------------------- data
def test_square_sample_is_uniform_in_square():
    g = torch.Generator().manual_seed(0)
    x, lab = SQUARE.sample(20000, g)
    assert x.shape == (20000, 2) and x.dtype == torch.float32
    assert (lab == 0).all()
    assert x.abs().max() <= 1.0
    assert np.allclose(x.mean(0).numpy(), 0.0, atol=0.02)
    assert np.allclose(x.var(0).numpy(), SQUARE.var(0), atol=0.01)
    assert np.allclose(SQUARE.var(0), [1 / 3, 1 / 3])


def test_partition_classes_by_area_and_in_own_region():
    g = torch.Generator().manual_seed(1)
    x, lab = STRIPS.sample(30000, g)
    freq = np.bincount(lab.numpy(), minlength=3) / len(lab)
    assert np.allclose(freq, STRIPS.areas() / STRIPS.areas().sum(), atol=0.01)
    assert STRIPS.contains(x, lab).all()
    assert (STRIPS.label(x) == lab.numpy()).mean() > 0.999  # boundaries aside
    # mean/var of a class against samples
    xc = STRIPS.sample_class(1, 40000, g).numpy()
    assert np.allclose(xc.mean(0), STRIPS.mean(1), atol=0.01)
    assert np.allclose(xc.var(0), STRIPS.var(1), atol=0.01)
    assert STRIPS.label(np.array([[3.0, 3.0]]))[0] == -1
    assert STRIPS.to_json()["1"] == [[-1.0, 0.0, -0.2, 1.0], [0.5, 1.0, 0.6, 1.0]]


def test_make_square_data_is_seeded():
    assert torch.equal(make_square_data(100, 3), make_square_data(100, 3))
    assert not torch.equal(make_square_data(100, 3), make_square_data(100, 4))


# ---------------------------------------------------------------- schedules
@pytest.mark.parametrize("sched", [ExpSchedule(), ExpSchedule(3.0), GeometricSchedule(0.01, 20.0)])
def test_sigma_dot_matches_finite_differences(sched):
    t = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)
    h = 1e-6
    fd = (sched.sigma(t + h) - sched.sigma(t - h)) / (2 * h)
    assert torch.allclose(sched.sigma_dot(t), fd, rtol=1e-6)
    assert torch.allclose(sched.t_of_sigma(sched.sigma(t)), t, atol=1e-12)


def test_exercise_schedule_values():
    s = ExpSchedule()
    assert math.isclose(float(s.sigma(torch.tensor(1.0))), 1.0)
    assert math.isclose(s.sigma_min, math.exp(-5), rel_tol=1e-9)
    t = torch.rand(10, dtype=torch.float64)
    assert torch.allclose(s.sigma_dot(t), 5 * s.sigma(t))


# ---------------------------------------------------------------- oracle
def test_log_ndtr_diff_matches_scipy_and_tails():
    from scipy.special import ndtr

    a = torch.tensor([-3.0, 0.5, -40.0, 30.0, -1e4], dtype=torch.float64)
    b = torch.tensor([1.0, 2.0, -39.0, 31.0, -9.9e3], dtype=torch.float64)
    got = log_ndtr_diff(a, b)
    ref = np.log(ndtr(b[:2].numpy()) - ndtr(a[:2].numpy()))
    assert np.allclose(got[:2].numpy(), ref)
    assert torch.isfinite(got).all()


@pytest.mark.parametrize("t", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("c", [None, 1])
def test_oracle_score_matches_finite_differences_of_log_prob(t, c):
    part = STRIPS if c is not None else SQUARE
    o = Oracle(part, ExpSchedule())
    # inside, on edges, near edges, far outside
    x = torch.tensor(
        [
            [0.0, 0.0],
            [0.3, -0.5],
            [1.0, 0.2],
            [-1.0, -1.0],
            [1.02, 0.0],
            [0.0, -1.01],
            [3.0, 2.0],
            [-8.0, 0.5],
            [0.5, 0.6],
        ],
        dtype=torch.float64,
    )
    h = 1e-5 * max(float(o.schedule.sigma(torch.tensor(t))), 1e-2)
    fd = torch.stack(
        [
            (o.log_prob(x + h * e, t, c) - o.log_prob(x - h * e, t, c)) / (2 * h)
            for e in torch.eye(2, dtype=torch.float64)
        ],
        dim=1,
    )
    sc = o.score(x, t, c)
    assert torch.isfinite(sc).all()
    assert torch.allclose(sc, fd, rtol=1e-4, atol=1e-4 * fd.abs().max().item())
    eps = o(x.float(), t, c)
    sig = float(o.schedule.sigma(torch.tensor(t, dtype=torch.float64)))
    assert torch.allclose(eps.double(), -sig * sc, rtol=1e-5, atol=1e-5)


def test_oracle_log_prob_normalised_and_far_outside_finite():
    o = Oracle(SQUARE, ExpSchedule())
    # inside at small σ: density ≈ 1/4
    lp = o.log_prob(torch.tensor([[0.0, 0.0], [0.5, -0.5]]), 0.0)
    assert torch.allclose(lp, torch.full((2,), -math.log(4.0), dtype=lp.dtype), atol=1e-9)
    # integrates to 1 at t = 1 (grid quadrature)
    u = torch.linspace(-7, 7, 701, dtype=torch.float64)
    xx, yy = torch.meshgrid(u, u, indexing="ij")
    pts = torch.stack([xx.ravel(), yy.ravel()], 1)
    mass = o.log_prob(pts, 1.0).exp().sum() * (u[1] - u[0]) ** 2
    assert abs(float(mass) - 1) < 1e-3
    far = torch.tensor([[100.0, -50.0]])
    assert torch.isfinite(o.log_prob(far, 0.0)).all() and torch.isfinite(o(far, 0.0)).all()
    # far outside, ε* points back from the square: ε* ≈ (x − proj(x))/σ
    e = o(torch.tensor([[1.5, 0.0]]), 0.0)
    assert torch.allclose(e, torch.tensor([[0.5 / math.exp(-5), 0.0]]), rtol=1e-3)


def test_oracle_class_mixture_is_unconditional_density():
    o = Oracle(STRIPS, ExpSchedule())
    x = torch.randn(50, 2, dtype=torch.float64)
    w = torch.tensor(STRIPS.areas() / STRIPS.areas().sum())
    per = torch.stack([o.log_prob(x, 0.4, torch.full((50,), c)) for c in range(3)], 1)
    mix = torch.logsumexp(per + w.log(), 1)
    assert torch.allclose(mix, o.log_prob(x, 0.4, None), atol=1e-10)


# ---------------------------------------------------------------- denoiser
def test_denoiser_shapes_and_class_embedding():
    m = Denoiser(DenoiserConfig(hidden=32, n_layers=2))
    x = torch.randn(7, 2)
    assert m(x, torch.tensor(0.3)).shape == (7, 2)
    assert m(x, torch.rand(7)).shape == (7, 2)
    mc = Denoiser(DenoiserConfig(hidden=32, n_layers=2, n_classes=5, output="precond"))
    assert isinstance(mc.class_emb, torch.nn.Embedding)
    y0 = mc(x, 0.5, torch.zeros(7, dtype=torch.long))
    y1 = mc(x, 0.5, torch.full((7,), 3, dtype=torch.long))
    assert y0.shape == (7, 2) and not torch.allclose(y0, y1)
    with pytest.raises(ValueError):
        mc(x, 0.5)


# ---------------------------------------------------------------- samplers
def test_time_grids():
    u = S.time_grid(10)
    assert (
        u[0] == 1
        and u[-1] == 0
        and torch.allclose(u[:-1] - u[1:], torch.full((10,), 0.1, dtype=u.dtype))
    )
    k = S.time_grid(10, "karras", ExpSchedule())
    assert k[0] == 1 and k[-1] == 0 and (k[:-1] > k[1:]).all()
    with pytest.raises(ValueError):
        S.time_grid(0)


def _oracle_run(sampler, z, T, **kw):
    o = Oracle(SQUARE, ExpSchedule())
    with torch.no_grad():
        return sampler(o, z, S.time_grid(T), ExpSchedule(), **kw)


def test_ddim_is_bit_identical_for_same_noise():
    m = Denoiser(DenoiserConfig(hidden=16, n_layers=2))
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    ts = S.time_grid(50)
    with torch.no_grad():
        outs = [S.sample_ddim(m, z.clone(), ts, ExpSchedule()) for _ in range(3)]
    assert all(torch.equal(outs[0], o) for o in outs)


def test_stochastic_differs_and_reduces_to_ddim_at_lambda_zero():
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    ddim = _oracle_run(S.sample_ddim, z, 40)
    lam0 = _oracle_run(
        S.sample_stochastic, z, 40, lam=0.0, generator=torch.Generator().manual_seed(1)
    )
    assert torch.equal(ddim, lam0)
    a = _oracle_run(S.sample_stochastic, z, 40, lam=1.0, generator=torch.Generator().manual_seed(1))
    b = _oracle_run(S.sample_stochastic, z, 40, lam=1.0, generator=torch.Generator().manual_seed(2))
    assert (a - b).abs().max() > 0.05


def test_stochastic_is_differentiable_in_z_and_noises():
    m = Denoiser(DenoiserConfig(hidden=16, n_layers=2))
    T = 5
    z = torch.randn(4, 2, requires_grad=True)
    noises = torch.randn(T, 4, 2, requires_grad=True)
    x = S.sample_stochastic(m, z, S.time_grid(T), ExpSchedule(), lam=1.0, noises=noises)
    x.sum().backward()
    assert z.grad is not None and noises.grad is not None and noises.grad.abs().sum() > 0


def test_callback_reports_every_step():
    seen = []
    z = torch.randn(3, 2)
    x = _oracle_run(S.sample_ddim, z, 7, callback=seen.append)
    assert [d["i"] for d in seen] == list(range(7))
    assert torch.equal(seen[-1]["x_next"], x) and torch.equal(seen[0]["x"], z)
    assert set(seen[0]) >= {"i", "t", "t_next", "x", "x_next", "denoised"}


def test_oracle_ddim_reproduces_the_known_shrink():
    """The known fact: DDIM + oracle + N(0, I): ~all inside but edge band ≈ 0.11–0.13 < 0.19;
    the matched prior and the final denoise give the truth's 0.19."""
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2000, 2, generator=g)
    x = _oracle_run(S.sample_ddim, z, 200)
    from genmod.diffusion import metrics as M

    assert M.inside_fraction(x) > 0.98 and 0.08 < M.edge_band(x) < 0.15
    std = S.matched_prior_std(ExpSchedule(), 1 / 3)
    xi = _oracle_run(S.sample_ddim, z * std, 200, final_denoise=True)
    assert M.inside_fraction(xi) > 0.99 and abs(M.edge_band(xi) - 0.19) < 0.03


def test_nfe_counter_counts_exactly():
    o = S.NFECounter(Oracle(SQUARE, ExpSchedule()))
    z = torch.randn(10, 2)
    with torch.no_grad():
        S.sample_ddim(o, z, S.time_grid(12), ExpSchedule(), final_denoise=True)
    assert o.nfe == 13
    o.nfe = 0
    with torch.no_grad():
        S.sample_heun(o, z, S.time_grid(12), ExpSchedule())
    assert o.nfe == 24


# ---------------------------------------------------------------- higher-order samplers
def _linear_in_sigma_field(sched):
    # ε(x, σ) = a + b·σ, independent of x: dx/dσ is linear in σ, trapezoidal rule is exact
    a, b = torch.tensor([0.3, -0.2]), torch.tensor([1.5, 0.7])

    def eps(x, t, c=None):
        s = sched.sigma(torch.as_tensor(t, dtype=torch.float64)).to(x.dtype)
        return (a + b * s.reshape(-1, 1)).expand_as(x)

    def exact(z, s0, s1):
        return z + a * (s1 - s0) + b * (s1**2 - s0**2) / 2

    return eps, exact


def test_heun_is_exact_for_a_field_linear_in_sigma():
    sched = ExpSchedule()
    eps, exact = _linear_in_sigma_field(sched)
    z = torch.randn(5, 2, dtype=torch.float64)
    for kind in ("uniform", "karras"):
        x = S.sample_heun(eps, z, S.time_grid(3, kind, sched), sched)
        assert torch.allclose(x, exact(z, sched.sigma_max, sched.sigma_min), atol=1e-12)


def test_heun_converges_at_second_order_and_euler_at_first():
    sched = ExpSchedule()
    k = 1.3  # dx/dσ = k·x  ⇒  x(σ) = x(σ_max)·exp(k(σ − σ_max))

    def eps(x, t, c=None):
        return k * x

    z = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    want = z * math.exp(k * (sched.sigma_min - sched.sigma_max))

    def err(sampler, T):
        return float((sampler(eps, z, S.time_grid(T, "karras", sched), sched) - want).abs().max())

    h_ratio = [err(S.sample_heun, T) / err(S.sample_heun, 2 * T) for T in (8, 16)]
    e_ratio = [err(S.sample_euler_sigma, T) / err(S.sample_euler_sigma, 2 * T) for T in (8, 16)]
    assert all(3.3 < r < 4.7 for r in h_ratio), h_ratio
    assert all(1.6 < r < 2.4 for r in e_ratio), e_ratio


def test_euler_sigma_and_ddim_agree_for_many_steps_with_the_oracle():
    z = torch.randn(300, 2, generator=torch.Generator().manual_seed(5))
    a = _oracle_run(S.sample_ddim, z, 400)
    b = _oracle_run(S.sample_euler_sigma, z, 400)
    assert (a - b).abs().max() < 0.05
