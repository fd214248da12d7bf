"""Quality metrics against the known truth (REPORT_SPEC.md, "Quality metrics").

- :func:`inside_fraction` — share of samples inside the square (inside their class region);
- :func:`edge_band` — share with max(|x|, |y|) > 0.9 (1 − 0.9² = 0.19 for the truth);
- :func:`energy_distance` — the two-sample energy distance
  D²(A, B) = 2·E‖a − b‖ − E‖a − a'‖ − E‖b − b'‖ (V-statistic: all pairs, ≥ 0), with
  :func:`noise_floor`, its spread between two independent samples of the truth itself;
- :func:`ks_uniform` — Kolmogorov–Smirnov test of each marginal against U(−1, 1).
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
