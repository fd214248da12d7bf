"""Class-conditional diffusion on a partition of the square: geometry of the class regions,
the per-class oracle and prior, conditional sampling and the per-class metrics.

Everything here is a function of a :class:`~genmod.diffusion.data.Partition` (any union of
rectangles per class), a schedule and an EpsModel ``eps(x, t, c)``; which partition, how many
samples and what the write-up says about them belong to section 02's configuration.

- geometry: :func:`boundary_distance`, :func:`distance_to_region`, :func:`interior_points`,
  :func:`default_margin`, :func:`class_geometry` (area, boundary length, the share of the
  region near its edge, pieces, holes, the region's correlation);
- the oracle ε*(x, t, c) (:class:`ClassOracle`) and the class prior at t = 1
  (:func:`class_prior`, the diagonal moment-matched Gaussian; :func:`prior_mismatch`
  measures how far the true t = 1 marginal is from it);
- sampling: :func:`sample_classes`, :func:`denoised_along_the_way`, :func:`class_steering`
  (the same starts under every class);
- metrics: :func:`class_accuracy`, :func:`spread_stats`, :func:`posterior_mean_inside`,
  :func:`memorisation` (how close the samples lie to the training points, against fresh
  true points);
- probabilities: :func:`true_log_density`, :func:`probe_estimates`,
  :func:`interior_exact_likelihood`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from genmod.diffusion.data import Partition
from genmod.diffusion.oracle import Oracle
from genmod.diffusion.sampling import (
    denoised,
    sample_ddim,
    sample_heun,
    time_grid,
)
from genmod.diffusion.schedules import Schedule


# --------------------------------------------------------------------- geometry
def boundary_distance(points, partition: Partition, labels) -> np.ndarray:
    """Distance from each point (inside its class region) to the nearest point outside it.

    The regions tile the square, so the outside of class c is the other classes' rectangles
    plus the plane outside the square. Points outside their region get a negative value
    (−distance to their region).
    """
    p = _np(points).astype(np.float64)
    lab = _np(labels).astype(np.int64)
    out = np.empty(len(p))
    sq = np.minimum.reduce([p[:, 0] + 1, 1 - p[:, 0], p[:, 1] + 1, 1 - p[:, 1]])
    for c in range(partition.n_classes):
        m = lab == c
        if not m.any():
            continue
        pc = p[m]
        inside = partition.in_class(pc, c)
        d_other = np.full(len(pc), np.inf)
        for c2, r in partition.rects():
            if c2 != c:
                d_other = np.minimum(d_other, _rect_dist(pc, r))
        d_in = np.minimum(d_other, np.maximum(sq[m], 0.0))
        d_own = np.min([_rect_dist(pc, r) for r in partition.regions[c]], axis=0)
        out[m] = np.where(inside, d_in, -d_own)
    return out


def _rect_dist(p: np.ndarray, r) -> np.ndarray:
    dx = np.maximum.reduce([r[0] - p[:, 0], np.zeros(len(p)), p[:, 0] - r[1]])
    dy = np.maximum.reduce([r[2] - p[:, 1], np.zeros(len(p)), p[:, 1] - r[3]])
    return np.hypot(dx, dy)


def interior_points(
    partition: Partition, c: int, n: int, margin: float, generator: torch.Generator
) -> torch.Tensor:
    """n points uniform on the part of class c's region at least ``margin`` from its edge."""
    out, have = [], 0
    for _ in range(100):
        x = partition.sample_class(c, max(4 * n, 256), generator)
        keep = boundary_distance(x, partition, np.full(len(x), c)) >= margin
        out.append(x[torch.as_tensor(keep)])
        have += int(keep.sum())
        if have >= n:
            break
    pts = torch.cat(out)[:n]
    if len(pts) < n:
        raise ValueError(f"class {c}: no region at least {margin} from its edge")
    return pts


def default_margin(partition: Partition, c: int, margin: float = 0.2) -> float:
    """0.2 (the unconditional section's margin), or half the class's inradius (the largest
    distance from a point of the region to its edge, on a 0.005 grid) if that is smaller."""
    ticks = np.arange(-1.0, 1.0 + 1e-9, 0.005)
    gx, gy = np.meshgrid(ticks, ticks, indexing="ij")
    g = np.stack([gx.ravel(), gy.ravel()], 1)
    g = g[partition.in_class(g, c)]
    inradius = float(boundary_distance(g, partition, np.full(len(g), c)).max())
    return min(margin, round(inradius / 2, 4))


def distance_to_region(points, partition: Partition, c: int) -> np.ndarray:
    """Distance from each point to class c's region (0 inside it)."""
    p = _np(points).astype(np.float64).reshape(-1, 2)
    return np.min([_rect_dist(p, r) for r in partition.regions[c]], axis=0)


def class_covariance(partition: Partition, c: int) -> np.ndarray:
    """The exact 2 × 2 covariance of class c's uniform distribution (x and y are independent
    inside each rectangle, so E[xy] = Σ_r w_r·m_rx·m_ry)."""
    rs = partition.regions[c]
    a = np.array([(r[1] - r[0]) * (r[3] - r[2]) for r in rs])
    w = a / a.sum()
    m = np.array([[(r[0] + r[1]) / 2, (r[2] + r[3]) / 2] for r in rs])
    mean = partition.mean(c)
    var = partition.var(c)
    cxy = float((w * m[:, 0] * m[:, 1]).sum() - mean[0] * mean[1])
    return np.array([[var[0], cxy], [cxy, var[1]]])


def region_perimeter(partition: Partition, c: int) -> float:
    """Length of the boundary of class c's region: the rectangles' perimeters less twice the
    length of every edge two of its rectangles share."""
    rs = partition.regions[c]
    total = sum(2 * ((r[1] - r[0]) + (r[3] - r[2])) for r in rs)
    for i, a in enumerate(rs):
        for b in rs[i + 1 :]:
            if np.isclose(a[1], b[0]) or np.isclose(b[1], a[0]):
                total -= 2 * max(0.0, min(a[3], b[3]) - max(a[2], b[2]))
            if np.isclose(a[3], b[2]) or np.isclose(b[3], a[2]):
                total -= 2 * max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return float(total)


def _cell_centres(partition: Partition, c: int, step: float) -> np.ndarray:
    """Centres of a grid of cells of side ≈ ``step`` inside each rectangle of class c (the
    same number of cells per unit area everywhere, so a share of cells is a share of area)."""
    out = []
    for r in partition.regions[c]:
        nx = max(1, round((r[1] - r[0]) / step))
        ny = max(1, round((r[3] - r[2]) / step))
        xs = r[0] + (np.arange(nx) + 0.5) * (r[1] - r[0]) / nx
        ys = r[2] + (np.arange(ny) + 0.5) * (r[3] - r[2]) / ny
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        out.append(np.stack([gx.ravel(), gy.ravel()], 1))
    return np.concatenate(out)


def edge_area_share(partition: Partition, c: int, band, step: float = 0.004):
    """Share of class c's area within ``band`` of the region's edge (cell-centre grid);
    ``band`` a number, or a dict of named bands (returns a dict)."""
    g = _cell_centres(partition, c, step)
    d = boundary_distance(g, partition, np.full(len(g), c))
    if isinstance(band, dict):
        return {k: float((d < b).mean()) for k, b in band.items()}
    return float((d < band).mean())


def region_topology(partition: Partition, c: int, step: float = 0.005) -> dict:
    """``pieces`` (connected parts) and ``holes`` (bounded parts of the complement) of class
    c's region, counted on a grid of cell side ``step`` (4-neighbour connectivity)."""
    from scipy import ndimage

    ticks = np.arange(-1.0 - 2 * step, 1.0 + 2 * step, step) + step / 2
    gx, gy = np.meshgrid(ticks, ticks, indexing="ij")
    inside = partition.in_class(np.stack([gx.ravel(), gy.ravel()], 1), c).reshape(gx.shape)
    _, pieces = ndimage.label(inside)
    out_lab, n_out = ndimage.label(~inside)
    border = set(
        np.unique(np.concatenate([out_lab[0], out_lab[-1], out_lab[:, 0], out_lab[:, -1]]))
    )
    holes = sum(1 for k in range(1, n_out + 1) if k not in border)
    return {"pieces": int(pieces), "holes": int(holes)}


def class_geometry(partition: Partition, bands: dict[str, float]) -> dict[int, dict]:
    """Per class: ``area``, ``perimeter`` (boundary length), ``perimeter_per_area``,
    ``edge_area_share`` (share of the area within each named band of the edge),
    ``pieces``, ``holes``, ``convex`` (the region is its bounding box: a union of
    axis-aligned rectangles is convex only then), ``mean`` and ``mean_inside`` (the class
    mean lies in the region) and ``correlation`` (of x and y under the class's uniform
    distribution)."""
    out = {}
    areas = partition.areas()
    for c in range(partition.n_classes):
        rs = np.array(partition.regions[c])
        box = (rs[:, 1].max() - rs[:, 0].min()) * (rs[:, 3].max() - rs[:, 2].min())
        mean = partition.mean(c)
        cov = class_covariance(partition, c)
        per = region_perimeter(partition, c)
        out[c] = {
            "area": float(areas[c]),
            "perimeter": per,
            "perimeter_per_area": per / float(areas[c]),
            "edge_area_share": edge_area_share(partition, c, dict(bands)),
            **region_topology(partition, c),
            "convex": bool(np.isclose(box, areas[c])),
            "mean": mean.tolist(),
            "mean_inside": bool(partition.in_class(mean[None], c)[0]),
            "correlation": float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])),
        }
    return out


# --------------------------------------------------------------------- oracle
class ClassOracle:
    """The closed-form oracle ε*(x, t, c) of :class:`~genmod.diffusion.oracle.Oracle`, one
    oracle per class: each point is evaluated against its own class's rectangles only
    (the other classes have weight 0 in its mixture), which is several times faster than
    the all-rectangle mixture and gives the same values. ``c=None``: the unconditional
    mixture (delegated to the full oracle)."""

    def __init__(self, partition: Partition, schedule: Schedule):
        self.partition = partition
        self.schedule = schedule
        self.full = Oracle(partition, schedule)
        self.per_class = [Oracle(Partition((rs,)), schedule) for rs in partition.regions]

    def _split(self, method: str, x: torch.Tensor, t, c, out_shape) -> torch.Tensor:
        if c is None:
            return getattr(self.full, method)(x, t)
        c = torch.as_tensor(c, device=x.device)
        if c.ndim == 0:
            c = c.expand(x.shape[0])
        t = torch.as_tensor(t, device=x.device)
        parts, idx = [], []
        for k in torch.unique(c).tolist():
            m = c == k
            tk = t[m] if t.ndim else t
            parts.append(getattr(self.per_class[k], method)(x[m], tk))
            idx.append(torch.nonzero(m)[:, 0])
        order = torch.argsort(torch.cat(idx))
        return torch.cat(parts)[order].reshape(out_shape)

    def __call__(self, x: torch.Tensor, t, c=None) -> torch.Tensor:
        return self._split("__call__", x, t, c, (x.shape[0], 2))

    def log_prob(self, x: torch.Tensor, t, c=None) -> torch.Tensor:
        return self._split("log_prob", x, t, c, (x.shape[0],))


# --------------------------------------------------------------------- sampling
def class_prior(partition: Partition, schedule: Schedule) -> tuple[torch.Tensor, torch.Tensor]:
    """The improved sampler's prior of each class at t = 1: the diagonal moment-matched
    Gaussian N(mean_c, diag(σ(1)² + var_c)) (returns means (C, 2), stds (C, 2)).

    The t = 1 marginal p_1(x | c) = p_data(· | c) ⊛ N(0, σ(1)² I) has this mean and these
    per-coordinate variances, but it is neither Gaussian nor, for most classes,
    uncorrelated (:func:`prior_mismatch` measures both).
    """
    s1 = schedule.sigma_max
    means = torch.tensor(np.stack([partition.mean(c) for c in range(partition.n_classes)]))
    var = torch.tensor(np.stack([partition.var(c) for c in range(partition.n_classes)]))
    return means.float(), torch.sqrt(s1**2 + var).float()


@torch.no_grad()
def prior_mismatch(
    partition: Partition, schedule: Schedule, n: int, generator: torch.Generator
) -> dict[int, dict]:
    """How far each class's t = 1 marginal p_1(· | c) is from :func:`class_prior`'s Gaussian q.

    - ``correlation_t1``: the exact correlation of x and y under p_1 (cov_xy of the class
      over √((var_x + σ(1)²)(var_y + σ(1)²))); ``correlation_data``: the class's own;
    - ``kl``: KL(p_1 ‖ q) by Monte Carlo over ``n`` draws of p_1 (log p_1 exact, from the
      oracle), with its standard error ``kl_stderr``;
    - ``kl_correlation`` = −½ log(1 − ρ₁²): the part of the KL that the full-covariance
      moment-matched Gaussian would remove (exact: for moment-matched Gaussians the KL is
      the difference of their entropies); ``kl_shape`` = ``kl`` − ``kl_correlation``: what
      is left, KL(p_1 ‖ N(mean, full covariance)), the non-Gaussian shape (same standard
      error).
    """
    from genmod.diffusion.likelihood import gaussian_log_prob

    s1 = schedule.sigma_max
    means, stds = class_prior(partition, schedule)
    out = {}
    for c in range(partition.n_classes):
        oracle = Oracle(Partition((partition.regions[c],)), schedule)
        x = partition.sample_class(c, n, generator).double()
        x = x + s1 * torch.randn(n, 2, generator=generator, dtype=torch.float64)
        lp = oracle.log_prob(x, torch.tensor(1.0, dtype=torch.float64))
        lq = gaussian_log_prob(x, means[c].double(), stds[c].double())
        d = (lp - lq).double()
        cov = class_covariance(partition, c)
        rho1 = cov[0, 1] / np.sqrt((cov[0, 0] + s1**2) * (cov[1, 1] + s1**2))
        kl_corr = float(-0.5 * np.log1p(-(rho1**2)))
        kl, se = float(d.mean()), float(d.std() / np.sqrt(n))
        out[c] = {
            "correlation_data": float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])),
            "correlation_t1": float(rho1),
            "kl": kl,
            "kl_stderr": se,
            "kl_correlation": kl_corr,
            "kl_shape": kl - kl_corr,
            "n": n,
        }
    return out


def balanced_labels(n_classes: int, per_class: int) -> torch.Tensor:
    """[0]*per_class + [1]*per_class + … (int64)."""
    return torch.arange(n_classes).repeat_interleave(per_class)


def initial_noise(
    labels: torch.Tensor,
    generator: torch.Generator,
    prior: str = "standard",
    partition: Partition | None = None,
    schedule: Schedule | None = None,
) -> torch.Tensor:
    """z for each label: ``"standard"`` N(0, I) (the exercise) or ``"matched"`` (class prior)."""
    z = torch.randn(len(labels), 2, generator=generator)
    if prior == "standard":
        return z
    if prior == "matched":
        means, stds = class_prior(partition, schedule)
        return means[labels] + stds[labels] * z
    raise ValueError(f"prior={prior!r}: accepted 'standard' | 'matched'")


@torch.no_grad()
def sample_classes(
    eps_model,
    labels: torch.Tensor,
    schedule: Schedule,
    T: int,
    generator: torch.Generator,
    prior: str = "standard",
    partition: Partition | None = None,
    final_denoise: bool = False,
    sampler: str = "ddim",
    device="cpu",
    callback=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Conditional samples: (z, x) with x = sampler(eps_model, z, c=labels).

    ``sampler``: ``"ddim"`` (the exercise's Euler in t, T steps) or ``"heun"`` (T steps).
    """
    z = initial_noise(labels, generator, prior, partition, schedule)
    ts = time_grid(T)
    zd, ld = z.to(device), labels.to(device)
    if sampler == "ddim":
        x = sample_ddim(eps_model, zd, ts, schedule, c=ld, callback=callback)
    elif sampler == "heun":
        x = sample_heun(eps_model, zd, ts, schedule, c=ld, callback=callback)
    else:
        raise ValueError(f"sampler={sampler!r}: accepted 'ddim' | 'heun'")
    if final_denoise:
        x = denoised(eps_model, x, float(ts[-1]), schedule, ld)
    return z, x.cpu()


@torch.no_grad()
def denoised_along_the_way(
    eps_model, z, labels, schedule: Schedule, T: int, t_stops, device="cpu", with_end=False
):
    """One DDIM run from z; the denoised estimate x̂_0(x_t, t) at each t in ``t_stops``
    (grid times; t = 0 is the end point's x̂_0, one extra evaluation). Stopping at t_s and
    returning x̂_0 is the "final denoised estimate" sampler. Returns {t: x̂_0}, and with
    ``with_end`` also the run's end point: ({t: x̂_0}, x)."""
    ts = time_grid(T)
    stops = {float(s) for s in t_stops}
    grid = {round(float(t), 9): float(t) for t in ts}
    for s in stops:
        if round(s, 9) not in grid:
            raise ValueError(f"t_stops: {s} is not a time of the T={T} grid")
    out: dict[float, torch.Tensor] = {}
    lab = labels.to(device)

    def cb(info):
        key = round(info["t"], 9)
        for s in stops:
            if round(s, 9) == key:
                out[s] = info["denoised"].cpu()

    x = sample_ddim(eps_model, z.to(device), ts, schedule, c=lab, callback=cb)
    if 0.0 in stops:
        out[0.0] = denoised(eps_model, x, 0.0, schedule, lab).cpu()
    return (out, x.cpu()) if with_end else out


@torch.no_grad()
def class_steering(
    eps_model, z, schedule: Schedule, T: int, partition: Partition, device="cpu"
) -> dict:
    """Each start z_j run by DDIM (T steps) under every class c: does the end point land in
    the conditioned class's region rather than in the others?

    Returns ``end_points`` (C, n, 2), ``region`` (C, n): the class whose region holds the
    end point (−1: outside the square), and per conditioned class c: ``hits_own`` (runs
    under c that end in region c, of ``n``), ``hits_other`` (runs under the other classes
    that end in region c, of ``n_other`` = (C − 1)·n), ``distance_own`` (mean distance of
    the end points under c to region c) and ``distance_other`` (the same for the runs under
    the other classes).
    """
    k, n = partition.n_classes, z.shape[0]
    ts = time_grid(T)
    zz = z.repeat(k, 1).to(device)
    lab = torch.arange(k).repeat_interleave(n).to(device)
    x = sample_ddim(eps_model, zz, ts, schedule, c=lab).cpu().reshape(k, n, 2)
    region = partition.label(x.reshape(-1, 2).numpy()).reshape(k, n)
    per_class = {}
    for c in range(k):
        d = distance_to_region(x.reshape(-1, 2), partition, c).reshape(k, n)
        others = [j for j in range(k) if j != c]
        per_class[c] = {
            "hits_own": int((region[c] == c).sum()),
            "n": n,
            "hits_other": int((region[others] == c).sum()),
            "n_other": n * len(others),
            "distance_own": float(d[c].mean()),
            "distance_other": float(d[others].mean()),
        }
    return {
        "z": z.tolist(),
        "end_points": x.tolist(),
        "region": region.tolist(),
        "per_class": per_class,
    }


def class_accuracy(points, labels, partition: Partition) -> dict[int, float]:
    """Per class c: the share of samples of class c that lie inside region c."""
    ok = partition.contains(_np(points), _np(labels))
    lab = _np(labels)
    return {c: float(ok[lab == c].mean()) for c in range(partition.n_classes) if (lab == c).any()}


def spread_stats(
    points, labels, partition: Partition, generator: torch.Generator, band: float = 0.05
) -> dict[int, dict]:
    """Per class, the samples' spread against the region (and against a true sample):

    - ``mean_offset``: ‖sample mean − region mean‖;
    - ``std_ratio``: sample std / region std, per coordinate (1 = same spread);
    - ``edge_share``: share of in-region samples within ``band`` of the region's edge, and
      ``edge_share_true`` for the truth (from as many fresh true points): a sampler that
      shrinks toward the centre of a region puts too few points near its edge;
    - ``fill``: share of the region's 0.05-cells that hold at least one sample, and
      ``fill_true`` for a fresh true sample of the same size (gaps, clumping);
    - ``outside_share``: share of samples outside region c; ``other_class_share``: share
      that landed in another class's region.
    """
    p, lab = _np(points), _np(labels)
    stats: dict[int, dict] = {}
    for c in range(partition.n_classes):
        m = lab == c
        if not m.any():
            continue
        pc = p[m]
        truth = partition.sample_class(c, len(pc), generator).numpy()
        inside = partition.in_class(pc, c)
        d = boundary_distance(pc[inside], partition, np.full(int(inside.sum()), c))
        dt = boundary_distance(truth, partition, np.full(len(truth), c))
        lab_all = partition.label(pc)
        stats[c] = {
            "n": int(m.sum()),
            "mean_offset": float(np.linalg.norm(pc.mean(0) - partition.mean(c))),
            "std_ratio": (pc.std(0) / np.sqrt(partition.var(c))).tolist(),
            "edge_share": float((d < band).mean()) if len(d) else 0.0,
            "edge_share_true": float((dt < band).mean()),
            "fill": _fill(pc, partition, c),
            "fill_true": _fill(truth, partition, c),
            "outside_share": float(1 - inside.mean()),
            "other_class_share": float(((lab_all >= 0) & (lab_all != c)).mean()),
        }
    return stats


@torch.no_grad()
def posterior_mean_inside(
    partition: Partition, schedule: Schedule, ts, n: int, generator: torch.Generator
) -> dict[float, dict[int, float]]:
    """For each t in ``ts`` and class c: the share of noisy true points x_t = x_0 + σ(t)ε
    (x_0 uniform on region c) whose exact posterior mean E[x_0 | x_t, c] (the oracle's
    x̂_0) lies inside region c. A convex region holds every posterior mean; a non-convex
    one need not."""
    oracle = ClassOracle(partition, schedule)
    out: dict[float, dict[int, float]] = {}
    for t in ts:
        sig = float(schedule.sigma(torch.tensor(float(t), dtype=torch.float64)))
        out[float(t)] = {}
        for c in range(partition.n_classes):
            x0 = partition.sample_class(c, n, generator).double()
            xt = x0 + sig * torch.randn(n, 2, generator=generator, dtype=torch.float64)
            lab = torch.full((n,), c)
            x_hat = denoised(oracle, xt, float(t), schedule, lab)
            out[float(t)][c] = float(partition.in_class(x_hat.numpy(), c).mean())
    return out


def nearest_distance(points, reference, max_pairs: int = 2**22) -> np.ndarray:
    """Each point's Euclidean distance to the nearest of the ``reference`` points (inf when
    there is none), in chunks of at most ``max_pairs`` distances."""
    p = torch.as_tensor(_np(points), dtype=torch.float64).reshape(-1, 2)
    r = torch.as_tensor(_np(reference), dtype=torch.float64).reshape(-1, 2)
    if len(r) == 0:
        return np.full(len(p), np.inf)
    chunk = max(1, max_pairs // len(r))
    out = [torch.cdist(p[i : i + chunk], r).min(1).values for i in range(0, len(p), chunk)]
    return torch.cat(out).numpy() if out else np.zeros(0)


def memorisation(
    points,
    labels,
    train_points,
    train_labels,
    partition: Partition,
    generator: torch.Generator,
    n_boot: int = 200,
) -> dict[int, dict]:
    """Per class c, how much closer the samples of class c lie to the class's training points
    than fresh true points do: ``ratio`` = the median distance from the samples to the
    nearest training point of class c (``median_samples``) over the same median for as many
    fresh points drawn uniformly on region c (``median_fresh``). 1: no closer than new data;
    well below 1: the samples reproduce the training points. ``ratio_stderr``: the bootstrap
    standard error of the ratio over ``n_boot`` resamples of the samples and of the fresh
    points (the training points held fixed); ``n_train``: class c's training points (none:
    the ratio is nan)."""
    p, lab = _np(points), _np(labels)
    tp, tl = _np(train_points), _np(train_labels)
    out: dict[int, dict] = {}
    for c in range(partition.n_classes):
        m = lab == c
        if not m.any():
            continue
        n = int(m.sum())
        ref = tp[tl == c]
        fresh = partition.sample_class(c, n, generator).numpy()
        d_s, d_f = nearest_distance(p[m], ref), nearest_distance(fresh, ref)
        med_s, med_f = float(np.median(d_s)), float(np.median(d_f))
        ok = len(ref) > 0 and med_f > 0
        boot = []
        if ok:
            idx = torch.randint(0, n, (n_boot, 2, n), generator=generator).numpy()
            boot = np.median(d_s[idx[:, 0]], 1) / np.maximum(np.median(d_f[idx[:, 1]], 1), 1e-300)
        out[c] = {
            "n": n,
            "n_train": len(ref),
            "median_samples": med_s,
            "median_fresh": med_f,
            "ratio": med_s / med_f if ok else float("nan"),
            "ratio_stderr": float(np.std(boot, ddof=1)) if ok else float("nan"),
        }
    return out


def _fill(points: np.ndarray, partition: Partition, c: int, cell: float = 0.05) -> float:
    """Share of the cells (side ``cell``) of region c that hold at least one point."""
    ticks = np.arange(-1 + cell / 2, 1, cell)
    gx, gy = np.meshgrid(ticks, ticks, indexing="ij")
    centres = np.stack([gx.ravel(), gy.ravel()], 1)
    own = partition.in_class(centres, c)
    ij = np.floor((points + 1) / cell).astype(int)
    ok = (ij >= 0).all(1) & (ij < len(ticks)).all(1)
    hit = np.zeros((len(ticks), len(ticks)), dtype=bool)
    hit[ij[ok, 0], ij[ok, 1]] = True
    return float(hit.ravel()[own].mean())


def _np(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


# --------------------------------------------------------------------- probabilities (C6)
def nearest_class(partition: Partition, point) -> int:
    """The class whose region is closest to ``point`` (x, y)."""
    p = np.asarray(point, dtype=np.float64).reshape(1, 2)
    d = [min(float(_rect_dist(p, r)[0]) for r in rs) for rs in partition.regions]
    return int(np.argmin(d))


def true_log_density(partition: Partition, points, labels) -> np.ndarray:
    """log p_data(x | c): −log(area_c) inside region c, −inf outside."""
    p, lab = _np(points), _np(labels).astype(np.int64)
    inside = partition.contains(p, lab)
    return np.where(inside, -np.log(partition.areas()[lab]), -np.inf)


@dataclass
class ProbeEstimates:
    """The probability estimates at probe points (one entry per probe, in their order)."""

    log_prob_bound: torch.Tensor  # −L_T (Eq. 9)
    stderr: torch.Tensor  # its Monte Carlo standard error
    exact_log_prob: torch.Tensor  # PF-ODE density, moment-matched class prior
    exact_log_prob_standard_prior: torch.Tensor  # PF-ODE density, the exercise's N(0, I)
    truth: np.ndarray  # −log area_c inside the class region, −inf outside
    reconstruction: torch.Tensor  # the terms Eq. 9 leaves out of the variational bound
    prior_kl: torch.Tensor
    distance_to_region: np.ndarray
    in_square: np.ndarray
    solver: dict


def probe_estimates(
    eps_model,
    probes: list,
    partition: Partition,
    schedule: Schedule,
    T: int,
    n_draws: int,
    ode_steps: int,
    generator: torch.Generator,
    device="cpu",
    ode_method: str | None = None,
) -> ProbeEstimates:
    """For each probe [x, y, c]: the Eq. 9 estimate −L_T ± its standard error, the density
    of the continuous-time probability-flow ODE's output at t = 0 (started from the class's
    moment-matched prior, and from the exercise's N(0, I)), the terms Eq. 9 leaves out of
    the variational bound, the probe's distance to its class's region and the true log
    density (−log area_c or −inf). ``solver``: how the ODE was integrated (``ode_steps``
    only matter to a fixed-step solver; ``ode_method``: the solver, None for
    :func:`~genmod.diffusion.likelihood.exact_log_prob`'s default)."""
    from genmod.diffusion.likelihood import eq9_bound, exact_log_prob, vlb_terms

    ode = {"n_steps": ode_steps} | ({} if ode_method is None else {"method": ode_method})

    x = torch.tensor([[p[0], p[1]] for p in probes], dtype=torch.float32, device=device)
    c = torch.tensor([p[2] for p in probes], dtype=torch.int64, device=device)
    est = eq9_bound(eps_model, x, schedule, T=T, c=c, n_draws=n_draws, generator=generator)
    means, stds = class_prior(partition, schedule)
    ex_std = exact_log_prob(eps_model, x, schedule, c=c, **ode)
    ex_match = exact_log_prob(
        eps_model, x, schedule, c=c, prior_mean=means[c.cpu()], prior_std=stds[c.cpu()], **ode
    )
    terms = [
        vlb_terms(x[i : i + 1].cpu(), schedule, means[pc], stds[pc])
        for i, (_, _, pc) in enumerate(probes)
    ]
    return ProbeEstimates(
        log_prob_bound=est.log_prob_bound,
        stderr=est.stderr,
        exact_log_prob=ex_match.log_prob,
        exact_log_prob_standard_prior=ex_std.log_prob,
        truth=true_log_density(partition, x.cpu(), c.cpu()),
        reconstruction=torch.stack([t["reconstruction"][0] for t in terms]),
        prior_kl=torch.stack([t["prior_kl"][0] for t in terms]),
        distance_to_region=np.array(
            [distance_to_region([[px, py]], partition, pc)[0] for px, py, pc in probes]
        ),
        in_square=partition.label(np.array([[p[0], p[1]] for p in probes])) >= 0,
        solver=dict(getattr(ex_match, "solver", {}) or {}),
    )


def interior_exact_likelihood(
    eps_model,
    partition: Partition,
    schedule: Schedule,
    n_per_class: int,
    ode_steps: int,
    generator: torch.Generator,
    prior: str = "matched",
    device="cpu",
    denoised_output: bool = False,
    ode_method: str | None = None,
) -> dict[int, dict]:
    """One variant of :func:`interior_likelihood_variants`: ``prior`` ``"matched"`` or
    ``"standard"``, or with ``denoised_output`` the x̂_0-returning sampler (matched prior)."""
    if prior not in ("standard", "matched"):
        raise ValueError(f"prior={prior!r}: accepted 'standard' | 'matched'")
    kw = {"n_steps": ode_steps} | ({} if ode_method is None else {"method": ode_method})
    out = interior_likelihood_variants(
        eps_model, partition, schedule, n_per_class, generator, device, **kw
    )
    return out["denoised" if denoised_output else prior]


def interior_likelihood_variants(
    eps_model,
    partition: Partition,
    schedule: Schedule,
    n_per_class: int,
    generator: torch.Generator,
    device="cpu",
    **ode_kw,
) -> dict[str, dict[int, dict]]:
    """Per class, averaged over interior points (at least :func:`default_margin` from the
    region's edge): the log density of the continuous-time probability-flow ODE's output at
    t = 0 started from the class's moment-matched prior (``"matched"``) and from N(0, I)
    (``"standard"``), and the density of the sampler that returns the denoised estimate x̂_0
    of the ODE's end point (``"denoised"``, matched prior; the improved sampler's
    continuous-time limit). One integration per class serves all three (the prior enters only
    through log π(z)). With the truth −log(area_c) and the solver used; ``ode_kw`` go to
    :func:`~genmod.diffusion.likelihood.exact_log_prob`."""
    from genmod.diffusion import likelihood as L

    means, stds = class_prior(partition, schedule)
    out: dict[str, dict[int, dict]] = {"matched": {}, "standard": {}, "denoised": {}}
    for c in range(partition.n_classes):
        margin = default_margin(partition, c)
        pts = interior_points(partition, c, n_per_class, margin, generator).to(device)
        plain, den = L.exact_log_prob_denoised(
            eps_model, pts, schedule, c=c, prior_mean=means[c], prior_std=stds[c],
            with_plain=True, **ode_kw,
        )  # fmt: skip
        for name, res in (("matched", plain), ("standard", L.with_prior(plain)), ("denoised", den)):
            lp = res.log_prob.double()
            out[name][c] = {
                "mean": float(lp.mean()),
                "stderr": float(lp.std() / np.sqrt(len(lp))),
                "truth": float(-np.log(partition.areas()[c])),
                "margin": margin,
                "n": len(lp),
                "solver": dict(res.solver),
            }
    return out
