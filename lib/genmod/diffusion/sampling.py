"""Samplers of the reverse process (k-diffusion style: small pure functions + a callback).

Notation (the exercise's): x_t = x_0 + σ(t)·ε; the model ("EpsModel", any callable
``eps(x, t, c=None)``) predicts ε; the denoised estimate is x̂_0 = x − σ(t)·ε̂ and the score
s = (x̂_0 − x)/σ(t)² = −ε̂/σ(t).

- :func:`sample_ddim` — the exercise's deterministic sampler (Eq. 7/8): Euler steps in t on
  the probability-flow ODE, z ← z − σ̇(t)·σ(t)·s(z, t)·dt = z + σ̇(t)·ε̂·dt, dt < 0.
- :func:`sample_stochastic` — the λ-sampler with the same marginals:
  dx = −(1+λ²)·σ̇σ·s·dt + λ·g(t)·√|dt|·ξ, g(t)² = dσ²/dt = 2σσ̇, ξ ~ N(0, I); λ = 0 is DDIM.
- :func:`sample_euler_sigma` — Euler in σ (DDIM of Song et al. for a VE process):
  x ← x + (σ_next − σ)·ε̂, exact when ε̂ is constant along the path.
- :func:`sample_heun` — Heun's 2nd-order method in σ (Karras et al. 2022, Alg. 1).

Every sampler takes a descending time grid ``ts`` (from :func:`time_grid`), runs under the
caller's grad mode (wrap in ``torch.no_grad()`` for speed; with ``torch.enable_grad()`` it is
differentiable w.r.t. z and the noises), calls ``callback(info)`` once per step with keys
``i, t, t_next, x, x_next, denoised``, and with ``final_denoise=True`` returns the last
denoised estimate x̂_0(x, t_end) instead of x (removes the σ(0) = e⁻⁵ blur; one more
network evaluation). :class:`NFECounter` counts network evaluations exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from genmod.diffusion.schedules import ExpSchedule, Schedule

EpsModel = Callable[..., torch.Tensor]


class NFECounter:
    """Wraps an EpsModel and counts its calls (one call = one network evaluation, NFE)."""

    def __init__(self, model: EpsModel):
        self.model = model
        self.nfe = 0

    def __call__(self, x, t, c=None):
        self.nfe += 1
        return self.model(x, t, c)


def time_grid(
    T: int,
    kind: str = "uniform",
    schedule: Schedule | None = None,
    rho: float = 7.0,
    t_end: float = 0.0,
) -> torch.Tensor:
    """Descending times t_0 = 1 > t_1 > … > t_T = t_end, shape (T+1,), float64.

    - ``"uniform"``: t_i = 1 − i·(1 − t_end)/T (the exercise: dt = −1/T; for σ = e^{5(t−1)}
      this is geometric spacing in σ);
    - ``"karras"``: σ_i = (σ_max^{1/ρ} + i/T·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, t_i = t(σ_i):
      ρ-spaced noise levels (Karras et al. 2022, Eq. 5), denser at small σ.
    """
    if T < 1:
        raise ValueError(f"T={T}: need at least one step")
    i = torch.arange(T + 1, dtype=torch.float64)
    if kind == "uniform":
        return 1.0 - i * (1.0 - t_end) / T
    if kind == "karras":
        schedule = schedule or ExpSchedule()
        smax = float(schedule.sigma(torch.tensor(1.0, dtype=torch.float64)))
        smin = float(schedule.sigma(torch.tensor(t_end, dtype=torch.float64)))
        s = (smax ** (1 / rho) + i / T * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
        ts = schedule.t_of_sigma(s).to(torch.float64)
        ts[0], ts[-1] = 1.0, t_end
        return ts
    raise ValueError(f"kind={kind!r}: accepted 'uniform' | 'karras'")


def denoised(eps_model: EpsModel, x, t, schedule: Schedule, c=None) -> torch.Tensor:
    """x̂_0 = x − σ(t)·ε̂(x, t[, c])."""
    return x - _sigma(schedule, t, x) * eps_model(x, _t(t, x), c)


def score(eps_model: EpsModel, x, t, schedule: Schedule, c=None) -> torch.Tensor:
    """s(x, t) = (x̂_0 − x)/σ(t)² (= −ε̂/σ)."""
    s = _sigma(schedule, t, x)
    return (denoised(eps_model, x, t, schedule, c) - x) / s**2


def _t(t, x) -> torch.Tensor:
    return torch.as_tensor(t, dtype=x.dtype, device=x.device)


def _sigma(schedule: Schedule, t, x) -> torch.Tensor:
    return schedule.sigma(torch.as_tensor(t, dtype=torch.float64)).to(x.dtype).to(x.device)


def _finish(eps_model, x, t_end, schedule, c, final_denoise):
    if not final_denoise:
        return x
    return denoised(eps_model, x, float(t_end), schedule, c)


def _integrate(step, eps_model, z, ts, schedule, c, callback, final_denoise) -> torch.Tensor:
    """The loop every sampler shares: ``x_next, x̂_0 = step(i, t, t_next, x)`` over the grid,
    ``callback`` after each step, then the optional final denoising."""
    x = z
    for i in range(len(ts) - 1):
        t, t_next = float(ts[i]), float(ts[i + 1])
        x_next, x0 = step(i, t, t_next, x)
        if callback is not None:
            callback(dict(i=i, t=t, t_next=t_next, x=x, x_next=x_next, denoised=x0))
        x = x_next
    return _finish(eps_model, x, ts[-1], schedule, c, final_denoise)


def sample_ddim(
    eps_model: EpsModel,
    z: torch.Tensor,
    ts: torch.Tensor,
    schedule: Schedule,
    c=None,
    callback: Callable[[dict], None] | None = None,
    final_denoise: bool = False,
) -> torch.Tensor:
    """The exercise's DDIM: Euler in t on the PF-ODE, z ← z − σ̇(t)σ(t)·s(z, t)·dt.

    With s = −ε̂/σ the step is z ← z + σ̇(t)·ε̂·dt. NFE = T (+1 with ``final_denoise``).
    """

    def step(i, t, t_next, x):
        eps = eps_model(x, _t(t, x), c)
        sig = _sigma(schedule, t, x)
        sdot = schedule.sigma_dot(torch.tensor(t, dtype=torch.float64)).to(x.dtype)
        return x + sdot * eps * (t_next - t), x - sig * eps

    return _integrate(step, eps_model, z, ts, schedule, c, callback, final_denoise)


def sample_stochastic(
    eps_model: EpsModel,
    z: torch.Tensor,
    ts: torch.Tensor,
    schedule: Schedule,
    lam: float,
    c=None,
    generator: torch.Generator | None = None,
    noises: torch.Tensor | None = None,
    callback: Callable[[dict], None] | None = None,
    final_denoise: bool = False,
) -> torch.Tensor:
    """The λ-sampler: x ← x + (1+λ²)·σ̇·ε̂·dt + λ·√(2σσ̇)·√|dt|·ξ (Euler–Maruyama).

    ``noises`` (T, N, 2) supplies the ξ of each step (differentiable); otherwise they are
    drawn from ``generator``. λ = 0 gives exactly :func:`sample_ddim`.
    """
    T = len(ts) - 1
    if noises is not None and noises.shape[0] != T:
        raise ValueError(f"noises: expected shape ({T}, N, 2), got {tuple(noises.shape)}")

    def step(i, t, t_next, x):
        dt = t_next - t
        eps = eps_model(x, _t(t, x), c)
        tt = torch.tensor(t, dtype=torch.float64)
        sig = _sigma(schedule, t, x)
        sdot = schedule.sigma_dot(tt).to(x.dtype)
        g = math.sqrt(2.0 * float(schedule.sigma(tt)) * float(schedule.sigma_dot(tt)))
        x_next = x + (1.0 + lam**2) * sdot * eps * dt
        if lam != 0.0:
            if noises is not None:
                xi = noises[i]
            else:
                xi = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
            x_next = x_next + lam * g * math.sqrt(abs(dt)) * xi
        return x_next, x - sig * eps

    return _integrate(step, eps_model, z, ts, schedule, c, callback, final_denoise)


def sample_euler_sigma(
    eps_model: EpsModel,
    z: torch.Tensor,
    ts: torch.Tensor,
    schedule: Schedule,
    c=None,
    callback: Callable[[dict], None] | None = None,
    final_denoise: bool = False,
) -> torch.Tensor:
    """Euler in σ on dx/dσ = ε̂(x, σ): x ← x + (σ(t_next) − σ(t))·ε̂ (DDIM, VE form).

    NFE = T (+1 with ``final_denoise``).
    """

    def step(i, t, t_next, x):
        s, s_next = _sigma(schedule, t, x), _sigma(schedule, t_next, x)
        eps = eps_model(x, _t(t, x), c)
        return x + (s_next - s) * eps, x - s * eps

    return _integrate(step, eps_model, z, ts, schedule, c, callback, final_denoise)


def sample_heun(
    eps_model: EpsModel,
    z: torch.Tensor,
    ts: torch.Tensor,
    schedule: Schedule,
    c=None,
    callback: Callable[[dict], None] | None = None,
    final_denoise: bool = False,
) -> torch.Tensor:
    """Heun's method in σ on dx/dσ = ε̂(x, σ) (Karras et al. 2022, Algorithm 1, no churn):

        d = ε̂(x, σ_i);  x' = x + (σ_{i+1} − σ_i)·d;  d' = ε̂(x', σ_{i+1});
        x ← x + (σ_{i+1} − σ_i)·(d + d')/2.

    Second order; NFE = 2T (+1 with ``final_denoise``).
    """

    def step(i, t, t_next, x):
        s, s_next = _sigma(schedule, t, x), _sigma(schedule, t_next, x)
        d = eps_model(x, _t(t, x), c)
        x_pred = x + (s_next - s) * d
        d2 = eps_model(x_pred, _t(t_next, x), c)
        return x + (s_next - s) * 0.5 * (d + d2), x - s * d

    return _integrate(step, eps_model, z, ts, schedule, c, callback, final_denoise)


def prior_noise(
    n: int,
    generator: torch.Generator | None = None,
    mean=None,
    std: float = 1.0,
    device="cpu",
) -> torch.Tensor:
    """z ~ N(mean, std² I), shape (n, 2): the exercise's prior is mean 0, std 1; the matched
    prior of U5 uses the data mean and std √(σ(1)² + var_data)."""
    z = torch.randn(n, 2, generator=generator)
    if std != 1.0:
        z = z * std
    if mean is not None:
        z = z + torch.as_tensor(mean, dtype=z.dtype)
    return z.to(device)


def matched_prior_std(schedule: Schedule, var_data: float) -> float:
    """√(σ(1)² + var_data): the std per coordinate of the true marginal p_1 (data ⊛ N(0, σ(1)²))."""
    return math.sqrt(schedule.sigma_max**2 + var_data)
