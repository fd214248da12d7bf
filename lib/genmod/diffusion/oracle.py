"""The closed-form oracle: the ideal noise prediction for data uniform on rectangles.

For data uniform on a rectangle R = [x0, x1] × [y0, y1] the noised marginal
p_t = p_data ⊛ N(0, σ(t)² I) is

    p_t(x, y | R) = [Φ((x1 − x)/σ) − Φ((x0 − x)/σ)] · [Φ((y1 − y)/σ) − Φ((y0 − y)/σ)] / |R|,

and a class made of several rectangles is their area-weighted mixture (the unconditional
density is the mixture over all classes by area). The ideal denoiser of the exercise's loss is

    ε*(x, t[, c]) = E[ε | x_t = x] = −σ(t) · ∇_x log p_t(x[| c]),

so the oracle is a perfect "EpsModel": running a sampler with it isolates the sampler's own
error. Everything is computed in log-space (log Φ via ``torch.special.log_ndtr``, log of a
difference of Φ's via log1p, the mixture via logsumexp), so it never overflows, even far
outside the data at σ = e⁻⁵.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genmod.diffusion.data import SQUARE, Partition
from genmod.diffusion.schedules import ExpSchedule, Schedule

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def log_ndtr_diff(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """log(Φ(b) − Φ(a)) for b > a, accurate in both tails.

    If a > 0 the identity Φ(b) − Φ(a) = Φ(−a) − Φ(−b) moves the computation to the lower
    tail, where log Φ is accurate; then log(Φ(hi) − Φ(lo)) = log Φ(hi) + log1p(−e^{log Φ(lo) − log Φ(hi)}).
    """
    flip = a > 0
    hi = torch.where(flip, -a, b)
    lo = torch.where(flip, -b, a)
    lhi = torch.special.log_ndtr(hi)
    llo = torch.special.log_ndtr(lo)
    return lhi + torch.log1p(-torch.exp(llo - lhi))


def _log_normal_pdf(u: torch.Tensor) -> torch.Tensor:
    return -0.5 * u * u - _LOG_SQRT_2PI


class Oracle:
    """ε*(x, t, c) for data uniform on ``partition`` (c=None: the mixture over all classes)."""

    def __init__(self, partition: Partition = SQUARE, schedule: Schedule | None = None):
        self.partition = partition
        self.schedule = schedule or ExpSchedule()
        rects, cls = [], []
        for c, r in partition.rects():
            rects.append(r)
            cls.append(c)
        self._rects = torch.tensor(rects, dtype=torch.float64)  # (R, 4)
        self._cls = torch.tensor(cls, dtype=torch.int64)  # (R,)
        self._areas = torch.tensor(partition.areas(), dtype=torch.float64)

    def _dtype(self, x: torch.Tensor) -> torch.dtype:
        return torch.float32 if x.device.type == "mps" else torch.float64

    def _per_rect(self, x: torch.Tensor, t) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """log p_t(x | rect) (N, R), its gradient (N, R, 2), and σ (N, 1)."""
        dt = self._dtype(x)
        xx = x.to(dt)
        t = torch.as_tensor(t, device=x.device).to(dt)
        if t.ndim == 0:
            t = t.expand(x.shape[0])
        sigma = self.schedule.sigma(t)[:, None]  # (N, 1)
        r = self._rects.to(device=x.device, dtype=dt)
        area = (r[:, 1] - r[:, 0]) * (r[:, 3] - r[:, 2])  # (R,)
        logp = -torch.log(area)[None, :].expand(x.shape[0], -1).clone()
        grads = []
        for d, (i0, i1) in enumerate(((0, 1), (2, 3))):
            a = (r[None, :, i0] - xx[:, d : d + 1]) / sigma  # (N, R)
            b = (r[None, :, i1] - xx[:, d : d + 1]) / sigma
            ld = log_ndtr_diff(a, b)
            logp = logp + ld
            # d/dx log(Φ(b) − Φ(a)) = (φ(a) − φ(b)) / (σ (Φ(b) − Φ(a)))
            g = (torch.exp(_log_normal_pdf(a) - ld) - torch.exp(_log_normal_pdf(b) - ld)) / sigma
            grads.append(g)
        return logp, torch.stack(grads, dim=-1), sigma

    def _log_weights(self, c, n: int, device, dtype) -> torch.Tensor:
        """log of the mixture weight of each rectangle, (N, R) (−inf for other classes)."""
        r = self._rects.to(device=device, dtype=dtype)
        area = (r[:, 1] - r[:, 0]) * (r[:, 3] - r[:, 2])
        cls = self._cls.to(device)
        if c is None:
            w = torch.log(area / area.sum())[None, :].expand(n, -1)
            return w
        c = torch.as_tensor(c, device=device)
        if c.ndim == 0:
            c = c.expand(n)
        class_area = self._areas.to(device=device, dtype=dtype)[c]  # (N,)
        same = cls[None, :] == c[:, None]
        w = torch.log(area[None, :] / class_area[:, None])
        return torch.where(same, w, torch.full_like(w, -math.inf))

    def log_prob(self, x: torch.Tensor, t, c=None) -> torch.Tensor:
        """log p_t(x[| c]), shape (N,) (in float64 except on MPS)."""
        logp, _, _ = self._per_rect(x, t)
        lw = self._log_weights(c, x.shape[0], x.device, logp.dtype)
        return torch.logsumexp(lw + logp, dim=1)

    def score(self, x: torch.Tensor, t, c=None) -> torch.Tensor:
        """∇_x log p_t(x[| c]), shape (N, 2), float64 (except on MPS)."""
        logp, g, _ = self._per_rect(x, t)
        lw = self._log_weights(c, x.shape[0], x.device, logp.dtype)
        resp = torch.softmax(lw + logp, dim=1)  # posterior over rectangles
        return (resp[:, :, None] * g).sum(1)

    def __call__(self, x: torch.Tensor, t, c=None) -> torch.Tensor:
        """ε*(x, t[, c]) = −σ(t)·∇ log p_t(x[| c]), same dtype as x."""
        logp, g, sigma = self._per_rect(x, t)
        lw = self._log_weights(c, x.shape[0], x.device, logp.dtype)
        resp = torch.softmax(lw + logp, dim=1)
        score = (resp[:, :, None] * g).sum(1)
        return (-sigma * score).to(x.dtype)


def oracle_loss(oracle, x0, schedule: Schedule, draws: int = 20, seed: int = 0) -> dict:
    """The exercise's loss E‖ε*(x_t, t) − ε‖² of the oracle on the points ``x0`` (the part of
    the loss no denoiser can remove), estimated over ``draws`` full-batch draws of (t, ε):
    {mean, stderr, draws}."""
    g = torch.Generator().manual_seed(seed)
    vals = []
    with torch.inference_mode():
        for _ in range(draws):
            t = torch.rand(x0.shape[0], generator=g)
            eps = torch.randn(x0.shape, generator=g)
            xt = x0 + schedule.sigma(t)[:, None] * eps
            vals.append(float(((oracle(xt, t) - eps) ** 2).sum(1).mean()))
    v = np.array(vals)
    return {
        "mean": float(v.mean()),
        "stderr": float(v.std(ddof=1) / np.sqrt(len(v))),
        "draws": draws,
    }
