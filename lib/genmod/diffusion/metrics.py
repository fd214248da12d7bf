"""Quality metrics against the known truth.

- :func:`inside_fraction` — share of samples inside the square (inside their class region);
- :func:`edge_band` — share with max(|x|, |y|) > 0.9 (1 − 0.9² = 0.19 for the truth);
- :func:`energy_distance` — the two-sample energy distance
  D²(A, B) = 2·E‖a − b‖ − E‖a − a'‖ − E‖b − b'‖ (V-statistic: all pairs, ≥ 0), with
  :func:`noise_floor`, its spread between two independent samples of the truth itself;
- :func:`ks_uniform` — Kolmogorov–Smirnov test of each marginal against U(−1, 1);
- :func:`corner_share`, :func:`spread`, :func:`outside_median_distance` — the share in the four
  corner squares, the standard deviation per coordinate (with its standard error) and how far
  outside the square the outside points lie; :class:`Evaluator` gathers them per sample;
- :func:`path_ratio`, :func:`max_abs_diff` — of trajectories and of repeated runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy import stats

from genmod.diffusion.data import SQUARE, Partition


def _t(a) -> torch.Tensor:
    a = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    return a.detach().to("cpu", torch.float64)


def inside_fraction(points, partition: Partition = SQUARE, labels=None) -> float:
    """Share of points inside the union of regions (``labels``: inside their own class)."""
    p = _t(points).numpy()
    if labels is None:
        return float((partition.label(p) >= 0).mean())
    return float(partition.contains(p, labels).mean())


def edge_band(points, threshold: float = 0.9) -> float:
    """Share of points with max(|x|, |y|) > threshold (truth: 1 − threshold²)."""
    p = _t(points)
    return float((p.abs().max(dim=1).values > threshold).double().mean())


def energy_distance(a, b) -> float:
    """D² = 2·mean‖a_i − b_j‖ − mean‖a_i − a_j‖ − mean‖b_i − b_j‖ (Székely's energy distance)."""
    a, b = _t(a), _t(b)
    ab = torch.cdist(a, b).mean()
    aa = torch.cdist(a, a).mean()
    bb = torch.cdist(b, b).mean()
    return float(2 * ab - aa - bb)


def noise_floor(
    sampler_of_truth: Callable[[int, torch.Generator], torch.Tensor],
    n: int = 1000,
    repeats: int = 100,
    seed: int = 0,
) -> dict:
    """The energy distance between two independent n-point samples of the truth, repeated:
    {median, p95, values}. A model sample whose distance to a fresh truth sample is below
    the p95 is indistinguishable from the truth at this sample size."""
    g = torch.Generator().manual_seed(seed)
    vals = [energy_distance(sampler_of_truth(n, g), sampler_of_truth(n, g)) for _ in range(repeats)]
    v = np.array(vals)
    return {
        "median": float(np.median(v)),
        "p95": float(np.percentile(v, 95)),
        "values": v.tolist(),
        "n": n,
        "repeats": repeats,
    }


def square_truth(n: int, generator: torch.Generator) -> torch.Tensor:
    """n fresh points uniform in [-1, 1]² (the truth of the unconditional model)."""
    return SQUARE.sample(n, generator)[0]


def ks_uniform(points, lo: float = -1.0, hi: float = 1.0) -> dict:
    """KS test of each coordinate against U(lo, hi): {"x": {statistic, pvalue}, "y": {...}}."""
    p = _t(points).numpy()
    out = {}
    for d, name in enumerate("xy"):
        r = stats.kstest(p[:, d], stats.uniform(loc=lo, scale=hi - lo).cdf)
        out[name] = {"statistic": float(r.statistic), "pvalue": float(r.pvalue)}
    return out


def summarize(points, truth_points, floor: dict | None = None) -> dict:
    """All the unconditional metrics of one sample (truth_points: a fresh truth sample)."""
    d = energy_distance(points, truth_points)
    out = {
        "inside_fraction": inside_fraction(points),
        "edge_band": edge_band(points),
        "energy_distance": d,
        "ks": ks_uniform(points),
    }
    if floor is not None:
        out["below_floor_p95"] = bool(d <= floor["p95"])
    return out


# ------------------------------------------------------------- samples of the square
#: Share of the truth in the four 0.2 × 0.2 corner squares of [-1, 1]² (4 · 0.04 / 4).
TRUTH_CORNER_SHARE = 0.04


def truth_edge_band(threshold: float = 0.9) -> float:
    """The truth's share with max(|x|, |y|) > threshold: 1 − threshold²."""
    return 1.0 - threshold**2


def corner_share(points, size: float = 0.2) -> float:
    """Share of points in the four size × size corner squares of [-1, 1]²
    (1 − size ≤ |x| ≤ 1 and 1 − size ≤ |y| ≤ 1; truth: size², 0.04 for size 0.2)."""
    p = _t(points).abs()
    inside = (p >= 1.0 - size) & (p <= 1.0)
    return float((inside[:, 0] & inside[:, 1]).double().mean())


def binomial_stderr(p: float, n: int) -> float:
    """Standard error √(p(1 − p)/n) of a share p measured on n points."""
    return float(np.sqrt(max(p * (1.0 - p), 0.0) / n)) if n > 0 else float("nan")


def spread(points) -> dict:
    """Standard deviation per coordinate (mean over the two coordinates, unbiased per
    coordinate) with its standard error from the fourth moment,
    SE(s) ≈ √((m₄ − s⁴)/n)/(2s) per coordinate: {std, stderr, n}."""
    p = _t(points)
    n = p.shape[0]
    std = float(torch.as_tensor(points).detach().cpu().std(0).mean())
    c = p - p.mean(0)
    s2 = (c**2).mean(0)
    m4 = (c**4).mean(0)
    se = ((m4 - s2**2).clamp_min(0) / n).sqrt() / (2 * s2.sqrt())
    return {"std": std, "stderr": float(se.pow(2).sum().sqrt() / 2), "n": int(n)}


def outside_median_distance(points) -> float | None:
    """Median of max(|x|, |y|) − 1 over the points outside the square (None: none outside)."""
    p = torch.as_tensor(points).detach().cpu().double()
    d = p.abs().max(dim=1).values - 1.0
    d = d[d > 0]
    return float(np.median(d.numpy())) if len(d) else None


def max_abs_diff(runs: torch.Tensor) -> float:
    """max over runs and points of |run_k − run_0|."""
    return float((runs - runs[0:1]).abs().max())


def path_ratios(xs) -> list[float]:
    """Per point: (path length)/(net displacement) of trajectories (K, n, 2)."""
    x = torch.as_tensor(xs).double()
    length = (x[1:] - x[:-1]).norm(dim=-1).sum(0)
    disp = (x[-1] - x[0]).norm(dim=-1).clamp_min(1e-12)
    return (length / disp).tolist()


def path_ratio(xs) -> float:
    """Mean over points of (path length)/(net displacement) of trajectories (K, n, 2)."""
    return float(torch.as_tensor(path_ratios(xs), dtype=torch.float64).mean())


class Evaluator:
    """Metrics of a sample against a *fresh* truth sample each call (so that every energy
    distance is comparable with the noise floor): :func:`summarize`, the median distance of
    the points outside the square and the corner share."""

    def __init__(self, floor: dict, generator: torch.Generator, n: int):
        self.floor, self.g, self.n = floor, generator, n

    def __call__(self, points, truth=None) -> dict:
        truth = square_truth(self.n, self.g) if truth is None else truth
        out = summarize(points, truth, self.floor)
        out["outside_median_distance"] = outside_median_distance(points)
        out["corner_share"] = corner_share(points)
        return out

    def paired(self) -> Callable[..., dict]:
        """An evaluator that compares every sample with ONE fresh truth sample (paired
        comparisons between samplers: the truth sample's own noise cancels)."""
        truth = square_truth(self.n, self.g)
        return lambda points: self(points, truth)
