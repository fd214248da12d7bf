"""Probability estimates on Gaussian data, where the ideal denoiser and log p are closed-form.

Data N(0, v·I): p_t = N(0, (v + σ(t)²)I) and ε*(x, t) = σ x / (v + σ²).
"""

import math

import numpy as np
import pytest
import torch
from genmod.diffusion.likelihood import (
    control_variate_mean,
    eq9_bound,
    eq9_draws,
    exact_log_prob,
    exact_log_prob_denoised,
    gaussian_log_prob,
    velocity_and_divergence,
    vlb_terms,
)


class ExpSchedule:
    """σ(t) = exp(rate (t − 1)) (the exercise's), duck-typed so these tests stand alone."""

    def __init__(self, rate=5.0):
        self.rate = rate

    def sigma(self, t):
        return torch.exp(self.rate * (torch.as_tensor(t) - 1.0))

    def sigma_dot(self, t):
        return self.rate * self.sigma(t)


class GaussianEps:
    """The ideal ε-prediction for data N(0, v I); ignores the class."""

    def __init__(self, v, schedule, detach=False):
        self.v, self.schedule, self.detach = v, schedule, detach
        self.calls = 0

    def __call__(self, x, t, c=None):
        self.calls += 1
        s = self.schedule.sigma(t).to(x.dtype)
        s = s[:, None] if s.ndim else s
        out = s * x / (self.v + s**2)
        return out.detach() if self.detach else out


SCHED = ExpSchedule()
V = 0.3


def eq9_reference(x, v, T, schedule=SCHED, n=200_000):
    """(T/2)∫_0^1 (SNR(t−1/T) − SNR(t))·E‖x − x̂_0‖² dt by quadrature, with
    E‖x − x̂_0‖² = (σ⁴‖x‖² + 2σ²v²)/(v + σ²)² for the ideal Gaussian denoiser."""
    t = (np.arange(n) + 0.5) / n
    s = np.exp(schedule.rate * (t - 1))
    sp = np.exp(schedule.rate * (t - 1.0 / T - 1))
    w = 0.5 * T * (1 / sp**2 - 1 / s**2)
    r2 = (x**2).sum()
    mse = (s**4 * r2 + 2 * s**2 * v**2) / (v + s**2) ** 2
    return -float((w * mse).mean())


@pytest.mark.parametrize("control_variate", [True, False])
def test_eq9_matches_quadrature_on_gaussian(control_variate):
    x = torch.tensor([[0.0, 0.0], [0.5, -0.3], [2.0, 1.5]])
    model = GaussianEps(V, SCHED)
    g = torch.Generator().manual_seed(0)
    est = eq9_bound(
        model, x, SCHED, T=1000, n_draws=16384, generator=g, control_variate=control_variate
    )
    for i in range(3):
        ref = eq9_reference(x[i].numpy().astype(np.float64), V, 1000)
        err = abs(float(est.log_prob_bound[i]) - ref)
        assert err < 4 * float(est.stderr[i]) + 1e-3, (i, ref, est.log_prob_bound[i], est.stderr[i])
    # With the control variate the interior estimate is far sharper than the plain one.
    if control_variate:
        assert float(est.stderr[0]) < 0.05


def test_eq9_stderr_is_honest():
    """The spread of independent estimates matches the reported standard error."""
    x = torch.tensor([[0.3, 0.2]])
    model = GaussianEps(V, SCHED)
    vals, ses = [], []
    for seed in range(40):
        e = eq9_bound(model, x, SCHED, n_draws=512, generator=torch.Generator().manual_seed(seed))
        vals.append(float(e.log_prob_bound[0]))
        ses.append(float(e.stderr[0]))
    ratio = np.std(vals, ddof=1) / np.mean(ses)
    assert 0.6 < ratio < 1.5, ratio


def test_eq9_control_variate_mean_exp_schedule():
    # For σ = e^{5(t−1)} the ratio weight is constant: (T/2)(e^{10/T} − 1), times E‖ε‖² = 2.
    T = 1000
    expect = 2 * 0.5 * T * (math.exp(10 / T) - 1)
    assert control_variate_mean(SCHED, T) == pytest.approx(expect, rel=1e-10)


def test_eq9_draws_are_stratified():
    t, eps = eq9_draws(1000, torch.Generator().manual_seed(1), per_stratum=2)
    assert t.shape == (1000,) and eps.shape == (1000, 2)
    k = torch.arange(500).repeat_interleave(2)
    assert torch.all((t >= k / 500) & (t < (k + 1) / 500))
    with pytest.raises(ValueError, match="per_stratum"):
        eq9_draws(10, per_stratum=1)


def test_eq9_ranks_inside_above_outside_and_is_below_full_bound():
    model = GaussianEps(V, SCHED)
    x = torch.tensor([[0.1, 0.0], [3.0, 3.0]])
    e = eq9_bound(model, x, SCHED, n_draws=4096, generator=torch.Generator().manual_seed(0))
    assert e.log_prob_bound[0] > e.log_prob_bound[1] + 10
    # −L_T + reconstruction − KL ≤ the true log density (variational bound), and −L_T lies
    # below it by (reconstruction − KL) at the centre.
    terms = vlb_terms(x, SCHED)
    full = e.log_prob_bound.double() + terms["reconstruction"] - terms["prior_kl"]
    true = gaussian_log_prob(x.double(), None, math.sqrt(V + math.exp(-10)))
    assert torch.all(full <= true + 3 * e.stderr)
    assert float(terms["reconstruction"][0]) == pytest.approx(-math.log(2 * math.pi) + 10 - 1)


def test_eq9_class_argument_is_passed():
    seen = []

    def model(x, t, c=None):
        seen.append(c)
        return torch.zeros_like(x)

    x = torch.zeros(3, 2)
    eq9_bound(model, x, SCHED, c=2, n_draws=8)
    assert seen[0] is not None and torch.all(seen[0] == 2)
    eq9_bound(model, x, SCHED, c=torch.tensor([0, 1, 2]), n_draws=8)
    assert torch.equal(seen[-1], torch.tensor([0, 1, 2]).repeat_interleave(8))
    with pytest.raises(ValueError, match="shape"):
        eq9_bound(model, x, SCHED, c=torch.tensor([0, 1]), n_draws=8)


def test_divergence_autograd_and_finite_differences_agree():
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    for t in (0.0, 0.5, 1.0):
        v1, d1 = velocity_and_divergence(GaussianEps(V, SCHED), x, t, SCHED)
        v2, d2 = velocity_and_divergence(GaussianEps(V, SCHED, detach=True), x, t, SCHED)
        s = math.exp(5 * (t - 1))
        expect = 2 * 5 * s * s / (V + s * s)
        assert torch.allclose(d1, torch.full_like(d1, expect), rtol=1e-4)
        assert torch.allclose(d2, d1, rtol=1e-3, atol=1e-5)
        assert torch.allclose(v1, v2)


@pytest.mark.parametrize("method", ["rk4", "heun", "dopri5"])
def test_exact_log_prob_matched_prior_is_true_density(method):
    """With the matched prior N(0, (v + σ(1)²)I) the flow's output is exactly p_0."""
    x = torch.tensor([[0.0, 0.0], [0.5, -0.4], [1.2, 0.7]])
    s0, s1 = math.exp(-5.0), 1.0
    model = GaussianEps(V, SCHED)
    res = exact_log_prob(
        model, x, SCHED, prior_std=math.sqrt(V + s1**2), n_steps=100, method=method
    )
    true = gaussian_log_prob(x.double(), None, math.sqrt(V + s0**2))
    assert torch.allclose(res.log_prob.double(), true, atol=2e-3)
    # ∇·v = 2σ̇σ/(v + σ²) = d/dt log(v + σ²): the integral is log((v + σ1²)/(v + σ0²)).
    assert torch.allclose(
        res.divergence_integral.double(),
        torch.full((3,), math.log((V + s1**2) / (V + s0**2)), dtype=torch.float64),
        atol=2e-3,
    )
    if method == "dopri5":  # adaptive, float64: far tighter than the fixed-step methods
        assert torch.allclose(res.log_prob.double(), true, atol=1e-5)
        assert res.solver["method"] == "dopri5" and res.solver["dtype"] == "float64"
    else:
        assert res.nfe == (4 if method == "rk4" else 2) * 100
        assert res.solver == {
            "density": "probability-flow ODE output at t0",
            "t0": 0.0,
            "method": method,
            "n_steps": 100,
            "dtype": "float32",
        }


def test_exact_log_prob_standard_normal_prior_and_mean():
    """With π = N(m, I) the flow scales z−m… here m=0: x(0) ~ N(0, (v+σ0²)/(v+σ1²) I)."""
    x = torch.tensor([[0.1, 0.2], [-0.6, 0.3]])
    s0 = math.exp(-5.0)
    scale2 = (V + s0**2) / (V + 1.0)
    res = exact_log_prob(GaussianEps(V, SCHED), x, SCHED, n_steps=100)
    true = gaussian_log_prob(x.double(), None, math.sqrt(scale2))
    assert torch.allclose(res.log_prob.double(), true, atol=2e-3)
    # z is where the flow maps x: x·sqrt((v+σ1²)/(v+σ0²)).
    assert torch.allclose(res.z, x / math.sqrt(scale2), atol=1e-3)
    # A per-point prior mean enters only through log π(z).
    m = torch.tensor([[0.5, 0.5], [0.0, 0.0]])
    res_m = exact_log_prob(GaussianEps(V, SCHED), x, SCHED, prior_mean=m, n_steps=100)
    lp = gaussian_log_prob(res.z, m, 1.0).float()
    assert torch.allclose(res_m.prior_log_prob, lp, atol=1e-5)
    # A per-coordinate prior std: log π is the sum of two 1D normal log densities.
    sd = torch.tensor([0.5, 2.0])
    res_s = exact_log_prob(GaussianEps(V, SCHED), x, SCHED, prior_std=sd, n_steps=10)
    z = res_s.z.double()
    expect = (-0.5 * torch.log(2 * math.pi * sd.double() ** 2) - z**2 / (2 * sd.double() ** 2)).sum(
        1
    )
    assert torch.allclose(res_s.prior_log_prob.double(), expect, atol=1e-5)
    kl = vlb_terms(x, SCHED, prior_mean=[0.1, 0.0], prior_std=sd)["prior_kl"]
    d = x.double() - torch.tensor([0.1, 0.0], dtype=torch.float64)
    s2 = sd.double() ** 2
    assert torch.allclose(
        kl, (torch.log(sd.double()) + 1 / (2 * s2) - 0.5 + d**2 / (2 * s2)).sum(1)
    )
    with pytest.raises(ValueError, match="method"):
        exact_log_prob(GaussianEps(V, SCHED), x, SCHED, method="bogus")


def test_denoised_density_adds_the_final_step_jacobian():
    """With the ideal Gaussian denoiser the final step x̂₀ = x·v/(v + σ0²) is linear, so the
    sampler that returns x̂₀ from the matched prior outputs N(0, v²/(v + σ0²))."""
    s0 = math.exp(-5.0)
    x = torch.tensor([[0.0, 0.0], [0.5, -0.4], [1.2, 0.7]])
    model = GaussianEps(V, SCHED)
    res = exact_log_prob_denoised(model, x, SCHED, prior_std=math.sqrt(V + 1.0))
    true = gaussian_log_prob(x.double(), None, V / math.sqrt(V + s0**2))
    assert torch.allclose(res.log_prob.double(), true, atol=1e-5)
    # log|det(I − σ0 ∂ε̂/∂x)| = 2 log(v/(v + σ0²)) at every point
    expect = 2 * math.log(V / (V + s0**2))
    assert torch.allclose(res.log_det_final.double(), torch.full((3,), expect, dtype=torch.float64))
    assert "denoised" in res.solver["density"]
    # from one integration: the plain ODE density at the same points, and a per-point prior
    plain, den = exact_log_prob_denoised(
        model, x, SCHED, prior_std=torch.full((3, 2), math.sqrt(V + 1.0)), with_plain=True
    )
    assert torch.allclose(den.log_prob, res.log_prob, atol=1e-6)
    true_plain = gaussian_log_prob(x.double(), None, math.sqrt(V + s0**2))
    assert torch.allclose(plain.log_prob.double(), true_plain, atol=1e-5)
    assert plain.log_det_final is None and plain.z.shape == (3, 2)


class _KinkedEps(torch.nn.Module):
    """A small random leaky-ReLU network: its divergence jumps where a unit changes sign, the
    case where a fixed-step integrator of the log-density converges only to first order."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w1 = torch.nn.Parameter(torch.randn(3, 24, generator=g))
        self.b1 = torch.nn.Parameter(torch.randn(24, generator=g) * 0.5)
        self.w2 = torch.nn.Parameter(torch.randn(24, 2, generator=g) / 5)

    def forward(self, x, t, c=None):
        h = torch.cat([x, t[:, None]], 1) @ self.w1 + self.b1
        return torch.nn.functional.leaky_relu(h, 0.1) @ self.w2


def test_adaptive_solver_is_accurate_per_point_on_a_kinked_network():
    """The default (adaptive) solver agrees with a very fine float64 RK4 to 1e-3 nats at every
    point, while 100 float32 RK4 steps do not have to."""
    x = torch.tensor([[0.3, -0.2], [-0.7, 0.5], [0.9, 0.9], [0.0, -1.1]])
    model = _KinkedEps()
    ref = exact_log_prob(model, x, SCHED, method="rk4", n_steps=4000, dtype=torch.float64)
    res = exact_log_prob(model, x, SCHED)
    assert float((res.log_prob.double() - ref.log_prob.double()).abs().max()) < 1e-3
    assert res.solver["method"] == "dopri5"
