"""Noise schedules σ(t) of the variance-exploding forward process x_t = x_0 + σ(t)·ε.

The exercise's schedule is σ(t) = exp(5(t − 1)), t ∈ [0, 1], so σ̇(t) = 5σ(t),
σ(0) = e⁻⁵ ≈ 0.0067 and σ(1) = 1. Every schedule here is monotone, so a time grid can be
chosen in σ and mapped back with :meth:`Schedule.t_of_sigma` (used by the ρ-spaced
"Karras" discretisation of :func:`genmod.diffusion.sampling.time_grid`).
"""

from __future__ import annotations

import math

import torch


def _as_tensor(t) -> torch.Tensor:
    return t if isinstance(t, torch.Tensor) else torch.as_tensor(t, dtype=torch.float32)


class Schedule:
    """σ(t) with its analytic derivative σ̇(t) and inverse t(σ)."""

    name: str = "schedule"

    def sigma(self, t) -> torch.Tensor:
        raise NotImplementedError

    def sigma_dot(self, t) -> torch.Tensor:
        raise NotImplementedError

    def t_of_sigma(self, sigma) -> torch.Tensor:
        raise NotImplementedError

    @property
    def sigma_min(self) -> float:
        return float(self.sigma(torch.tensor(0.0, dtype=torch.float64)))

    @property
    def sigma_max(self) -> float:
        return float(self.sigma(torch.tensor(1.0, dtype=torch.float64)))

    def to_json(self) -> dict:
        return {"name": self.name, "sigma_min": self.sigma_min, "sigma_max": self.sigma_max}


class ExpSchedule(Schedule):
    """σ(t) = exp(rate·(t − 1)), σ̇(t) = rate·σ(t) — the exercise's schedule for rate = 5."""

    def __init__(self, rate: float = 5.0):
        self.rate = float(rate)
        self.name = f"exp(rate={self.rate:g})"

    def sigma(self, t) -> torch.Tensor:
        return torch.exp(self.rate * (_as_tensor(t) - 1.0))

    def sigma_dot(self, t) -> torch.Tensor:
        return self.rate * self.sigma(t)

    def t_of_sigma(self, sigma) -> torch.Tensor:
        return 1.0 + torch.log(_as_tensor(sigma)) / self.rate

    def to_json(self) -> dict:
        return {**super().to_json(), "rate": self.rate, "formula": f"exp({self.rate:g}(t-1))"}


class GeometricSchedule(Schedule):
    """σ(t) = σ_min^(1−t)·σ_max^t (geometric in t); σ̇ = σ·log(σ_max/σ_min).

    ``GeometricSchedule(math.exp(-5), 1.0)`` is the exercise's schedule; a larger σ_max makes
    the t = 1 marginal closer to N(0, σ_max² I), i.e. shrinks the prior mismatch.
    """

    def __init__(self, sigma_min: float = math.exp(-5.0), sigma_max: float = 1.0):
        if not 0 < sigma_min < sigma_max:
            raise ValueError("need 0 < sigma_min < sigma_max")
        self._lo, self._hi = math.log(sigma_min), math.log(sigma_max)
        self.name = f"geometric({sigma_min:.4g}..{sigma_max:.4g})"

    def sigma(self, t) -> torch.Tensor:
        return torch.exp(self._lo + (self._hi - self._lo) * _as_tensor(t))

    def sigma_dot(self, t) -> torch.Tensor:
        return (self._hi - self._lo) * self.sigma(t)

    def t_of_sigma(self, sigma) -> torch.Tensor:
        return (torch.log(_as_tensor(sigma)) - self._lo) / (self._hi - self._lo)
