"""Samplers by name: a :class:`SamplerSpec` (integrator, time grid, prior, final step) and
the runs built on the step functions of :mod:`genmod.diffusion.sampling`.

- :func:`run` — one sampler from standard-normal noise z (scaled/shifted to its prior), with
  the exact number of network evaluations (NFE);
- :func:`sample_seeds` — one sample per seed, all seeds in one batch;
- :func:`repeat_runs` — several runs from the same noise (DDIM or the λ-sampler);
- :func:`trajectories` — the whole path of a few points;
- :func:`sigma_table` — the noise levels σ of a time grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from genmod.diffusion import sampling as S
from genmod.diffusion.data import SQUARE
from genmod.diffusion.schedules import ExpSchedule, Schedule

time_grid = S.time_grid


@dataclass(frozen=True)
class SamplerSpec:
    """A sampler configuration: integrator, time grid, prior and final step.

    - method: "ddim" (the exercise's Euler step in t), "euler_sigma" (Euler in σ) or "heun";
    - grid: "uniform" (dt = −1/T) or "karras" (ρ-spaced σ, ρ = 7);
    - prior: "standard" (z ~ N(0, I), the exercise's) or "matched" (the Gaussian
      N(mean, (σ(1)² + var) I) with the mean and variance of the true marginal at t = 1);
    - final_denoise: return x̂_0(x, t=0) instead of x (one more evaluation).
    """

    method: str = "ddim"
    grid: str = "uniform"
    prior: str = "standard"
    final_denoise: bool = False

    @property
    def label(self) -> str:
        m = {"ddim": "Euler in t (DDIM)", "euler_sigma": "Euler in σ", "heun": "Heun in σ"}
        g = {"uniform": "uniform t", "karras": "ρ-spaced σ"}[self.grid]
        pr = "N(0, I)" if self.prior == "standard" else "matched prior"
        return f"{m[self.method]}, {g}, {pr}" + (", final x̂₀" if self.final_denoise else "")

    def nfe(self, steps: int) -> int:
        return steps * (2 if self.method == "heun" else 1) + int(self.final_denoise)

    def steps_for_nfe(self, nfe: int) -> int:
        per = 2 if self.method == "heun" else 1
        return max(1, (nfe - int(self.final_denoise)) // per)


#: The exercise's sampler: Euler in t on a uniform grid from N(0, I), no final step.
EXERCISE = SamplerSpec()
#: Heun in σ on ρ-spaced noise levels from the matched prior, ending with x̂₀.
IMPROVED = SamplerSpec("heun", "karras", "matched", True)
#: Four integrators of the same ODE, all with the matched prior and the final x̂₀.
STUDY_SPECS = {
    "ddim": SamplerSpec("ddim", "uniform", "matched", True),
    "euler_sigma": SamplerSpec("euler_sigma", "uniform", "matched", True),
    "euler_sigma_karras": SamplerSpec("euler_sigma", "karras", "matched", True),
    "heun_karras": SamplerSpec("heun", "karras", "matched", True),
}
_METHODS = {"ddim": S.sample_ddim, "euler_sigma": S.sample_euler_sigma, "heun": S.sample_heun}


def prior_params(spec: SamplerSpec, schedule: Schedule) -> tuple[np.ndarray | None, float]:
    """(mean, std) of the sampler's prior at t = 1."""
    if spec.prior == "standard":
        return None, 1.0
    return SQUARE.mean(), S.matched_prior_std(schedule, float(SQUARE.var().mean()))


def draw_noise(n: int, seed: int) -> torch.Tensor:
    """Standard normal (n, 2) from its own generator (the prior is applied by :func:`run`)."""
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


def run(
    model,
    spec: SamplerSpec,
    z: torch.Tensor,
    steps: int,
    schedule: Schedule | None = None,
    callback=None,
    device="cpu",
) -> tuple[torch.Tensor, int]:
    """Run sampler ``spec`` from standard-normal ``z`` (scaled/shifted to its prior) with
    ``steps`` steps; returns (points on CPU, exact NFE)."""
    schedule = schedule or ExpSchedule()
    mean, std = prior_params(spec, schedule)
    x = z * std
    if mean is not None:
        x = x + torch.as_tensor(mean, dtype=x.dtype)
    counter = S.NFECounter(model)
    ts = S.time_grid(steps, spec.grid, schedule)
    with torch.inference_mode():
        out = _METHODS[spec.method](
            counter, x.to(device), ts, schedule, callback=callback, final_denoise=spec.final_denoise
        )
    return out.cpu(), counter.nfe


def sample_seeds(model, seeds, n, steps, spec=EXERCISE, schedule=None, device="cpu"):
    """One sample of n points per seed, all seeds in one batch (the sampler acts per point).

    Returns (noises (S, n, 2), samples (S, n, 2))."""
    z = torch.stack([draw_noise(n, s) for s in seeds])
    x, _ = run(model, spec, z.reshape(-1, 2), steps, schedule, device=device)
    return z, x.reshape(len(seeds), n, 2)


def repeat_runs(
    model, z, steps, runs, lam=0.0, seed=0, schedule=None, device="cpu"
) -> torch.Tensor:
    """``runs`` runs of the sampler from the same noise ``z`` (no reseeding in between):
    λ = 0: DDIM, each run a separate call; λ > 0: the stochastic sampler, the runs side by side
    in one batch, whose per-step noise comes from one generator seeded once.
    Returns (runs, n, 2)."""
    schedule = schedule or ExpSchedule()
    ts = S.time_grid(steps)
    g = torch.Generator().manual_seed(seed)
    outs = []
    with torch.inference_mode():
        if lam != 0.0:
            # the runs side by side in one batch: each copy of z gets its own per-step noise
            zz = z.repeat(runs, 1).to(device)
            x = S.sample_stochastic(model, zz, ts, schedule, lam, generator=g)
            return x.cpu().reshape(runs, *z.shape)
        for _ in range(runs):
            outs.append(S.sample_ddim(model, z.clone().to(device), ts, schedule).cpu())
    return torch.stack(outs)


def trajectories(model, z, steps, spec=EXERCISE, lam=0.0, seed=0, schedule=None, device="cpu"):
    """Trajectories (steps+1, n, 2) and the times (steps+1,) of the points started at z
    (λ = 0: sampler ``spec``; λ > 0: the stochastic sampler on ``spec``'s grid, from z as is)."""
    schedule = schedule or ExpSchedule()
    xs, ts = [], []

    def cb(info):
        xs.append(info["x"].cpu())
        ts.append(info["t"])

    if lam == 0.0:
        x, _ = run(model, spec, z, steps, schedule, callback=cb, device=device)
    else:
        g = torch.Generator().manual_seed(seed)
        grid = S.time_grid(steps, spec.grid, schedule)
        with torch.inference_mode():
            x = S.sample_stochastic(
                model, z.to(device), grid, schedule, lam, generator=g, callback=cb
            )
        x = x.cpu()
    xs.append(x)
    ts.append(0.0)
    return torch.tensor(ts), torch.stack(xs)


def sigma_table(schedule: Schedule, ts: torch.Tensor) -> dict:
    """{t: [...], sigma: [...]} of a time grid."""
    return {
        "t": [float(t) for t in ts],
        "sigma": [float(schedule.sigma(torch.as_tensor(t, dtype=torch.float64))) for t in ts],
    }
