"""The forward (noising) process x_t = x_0 + σ(t)·ε as a discretised SDE (U1).

For a VE process dx = g(t)·dW with g(t)² = dσ²/dt the exact transition over [t, t + dt] is

    x_{t+dt} = x_t + √(σ²(t + dt) − σ²(t)) · ξ,   ξ ~ N(0, I),

so with x at t_0 drawn from x_0 + σ(t_0)·ε the marginal at every grid time is exactly
x_0 + σ(t)·ε (variances add up to σ²(t)). A random walk with variance σ(t)² per step would
be wrong: its variance grows like Σ σ(t_k)², not σ(t)².
"""

from __future__ import annotations

import math
import statistics

import torch

from genmod.diffusion.schedules import ExpSchedule, Schedule

#: The 95 % bound of the larger |N(0, 1)| of two independent draws (each at √0.95): ≈ 2.24.
Z_MAX2 = statistics.NormalDist().inv_cdf(1 - (1 - math.sqrt(0.95)) / 2)


def forward_marginal(x0: torch.Tensor, t, schedule: Schedule | None = None, generator=None):
    """x_t = x_0 + σ(t)·ε, ε ~ N(0, I) (the exercise's forward process), same shape as x0."""
    schedule = schedule or ExpSchedule()
    t = torch.as_tensor(t, dtype=x0.dtype)
    sigma = schedule.sigma(t)
    if sigma.ndim == 1:
        sigma = sigma[:, None]
    return x0 + sigma * torch.randn(x0.shape, generator=generator, dtype=x0.dtype)


def forward_trajectory(
    x0,
    schedule: Schedule | None = None,
    T: int = 1000,
    generator: torch.Generator | None = None,
    n_paths: int = 1,
    ts: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Simulate the forward SDE from x0 on the grid t_0 = 0 < … < t_T = 1.

    Returns (ts (T+1,), paths (T+1, n_paths, 2)): paths[0] = x0 + σ(0)·ε and
    paths[k+1] = paths[k] + √(σ²(t_{k+1}) − σ²(t_k))·ξ_k.
    """
    schedule = schedule or ExpSchedule()
    if ts is None:
        ts = torch.linspace(0.0, 1.0, T + 1, dtype=torch.float64)
    x0 = torch.as_tensor(x0, dtype=torch.float64).reshape(-1, 2)
    if x0.shape[0] == 1:
        x0 = x0.expand(n_paths, 2)
    var = schedule.sigma(ts) ** 2
    std = torch.empty_like(ts)
    std[0] = var[0].sqrt()
    std[1:] = (var[1:] - var[:-1]).clamp_min(0).sqrt()
    xi = torch.randn(len(ts), x0.shape[0], 2, generator=generator, dtype=torch.float64)
    paths = x0[None] + torch.cumsum(std[:, None, None] * xi, dim=0)
    return ts, paths


def forward_check(ts, paths, start, schedule: Schedule) -> dict:
    """Empirical mean/variance of many forward paths vs x0 and σ(t)² at t = 0.5 and t = 1,
    and the variance a random walk with σ(t_k)² per step would reach."""
    ts = torch.as_tensor(ts, dtype=torch.float64)
    half = int(torch.searchsorted(ts, torch.tensor(0.5, dtype=torch.float64)))
    s2 = schedule.sigma(ts) ** 2
    x0 = torch.as_tensor(start, dtype=paths.dtype)
    n = int(paths.shape[1])
    # The mean over the two coordinates of the variance of n Gaussian draws has standard error
    # σ²·√(1/(n − 1)); one coordinate's mean, σ/√n. mean_err is the larger of the two
    # coordinates' deviations: its 95 % bound is Z_MAX2 ≈ 2.24 standard errors (each coordinate
    # at √0.95), not 2 (which a correct SDE would exceed in about 10 % of runs).
    se_var = math.sqrt(1 / (n - 1)) if n > 1 else math.nan
    return {
        "n_paths": n,
        "t_half": float(ts[half]),
        "var_half": float(paths[half].var(0).mean()),
        "sigma2_half": float(s2[half]),
        "var_half_stderr": float(s2[half]) * se_var,
        "var_end": float(paths[-1].var(0).mean()),
        "sigma2_end": float(s2[-1]),
        "var_end_stderr": float(s2[-1]) * se_var,
        "mean_err": float((paths[-1].mean(0) - x0).abs().max()),
        "mean_err_bound": Z_MAX2 * math.sqrt(float(s2[-1]) / n),
        "mean_err_bound_z": Z_MAX2,
        "random_walk_var_end": float(s2.sum()),
    }
