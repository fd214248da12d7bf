"""Section 02, the class-conditional diffusion model: the partition, profiles and analysis.

**The partition** (:data:`FIVE_REGIONS`) splits [-1, 1]² into five classes, each a union of
axis-aligned rectangles, chosen so that the classes differ in the ways that matter to a
diffusion model:

====  ==========================  =====  ===========================================
 c    shape                       area   what it tests
====  ==========================  =====  ===========================================
 0    L-shape (2 rectangles)      2.20   a large, non-convex class: its mean sits near
                                         the inner corner, x̂_0 can point off-region
 1    thin strip (0.25 high)      0.30   a thin class: the σ(0) blur and the model's
                                         sharpness at small σ decide the accuracy
 2    small square (0.3 × 0.3)    0.09   tiny (≈ 45 of 2000 training points) and far
                                         from N(0, I)'s typical set at the prior scale
 3    two separate rectangles     0.34   disconnected: the sampler must pick a mode
 4    frame around the square     1.07   a region with a hole (class 2) and thin parts
====  ==========================  =====  ===========================================

The regions tile the square (checked by :func:`check_partition`), the areas span a factor
24, and every class has at least one edge inside the square, where its density must drop
from 1/area to 0 next to another class's (the conditional model has to be sharp there).

**Profiles** (:data:`PROFILES`) give the notebook's budget parameters (``n_points``,
``epochs``, ``T``, ``probe_points``) per profile and :func:`settings` the derived
non-parameter budgets (model size, samples per class, Monte-Carlo draws, ODE steps).
:func:`check_params` validates the parameters of notebook 02 (one-line ``ValueError``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from genmod import params as P
from genmod.diffusion.data import Partition
from genmod.diffusion.oracle import Oracle
from genmod.diffusion.sampling import (
    denoised,
    sample_ddim,
    sample_heun,
    time_grid,
)
from genmod.diffusion.schedules import Schedule

SECTION = "diffusion_conditional"
MIN_CLASSES = 5

FIVE_REGIONS = Partition(
    (
        ((-1.0, -0.2, -1.0, 1.0), (-0.2, 1.0, -1.0, -0.5)),  # 0: L-shape
        ((-0.2, 1.0, -0.5, -0.25),),  # 1: thin strip
        ((0.2, 0.5, 0.1, 0.4),),  # 2: small square
        ((-0.2, 0.2, 0.6, 1.0), (0.6, 1.0, -0.25, 0.2)),  # 3: two separate pieces
        (  # 4: the frame around the small square
            (-0.2, 0.6, -0.25, 0.1),
            (-0.2, 0.2, 0.1, 0.6),
            (0.2, 0.5, 0.4, 0.6),
            (0.5, 0.6, 0.1, 0.6),
            (0.6, 1.0, 0.2, 0.6),
            (0.2, 1.0, 0.6, 1.0),
        ),
    )
)
CLASS_NAMES = ("L-shape", "thin strip", "small square", "two pieces", "frame")

# Default C6 probes [x, y, class]: inside (matching class), the same location with another
# class, inside a small class, just outside the square, well outside the square.
DEFAULT_PROBES = [
    [-0.6, 0.3, 0],  # inside the L-shape, matching class
    [-0.6, 0.3, 2],  # same location, class of the small square (does not match)
    [0.35, 0.25, 2],  # centre of the small square, matching
    [0.4, -0.375, 1],  # centre of the thin strip, matching
    [0.8, 0.8, 4],  # inside the frame, matching
    [1.15, 0.0, 3],  # just outside the square, next to class 3's right piece
    [2.0, 2.0, 4],  # well outside the square
]

PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {"n_points": 1000, "epochs": 150, "T": 100, "probe_points": DEFAULT_PROBES},
    "default": {"n_points": 2000, "epochs": 5500, "T": 1000, "probe_points": DEFAULT_PROBES},
    "full": {"n_points": 3000, "epochs": 16000, "T": 1000, "probe_points": DEFAULT_PROBES},
}


@dataclass
class Settings:
    """Budgets that follow the profile but are not notebook parameters."""

    hidden: int = 128
    n_layers: int = 3
    x_freqs: int = 0  # Fourier features of x (3 gave sharper edges but a lumpier density)
    noise_draws: int = 1  # copies of the training set per full-batch step
    lr: float = 3e-3
    samples_per_class: int = 1000  # C4/C5 samples of each class, for each sampler
    eq9_draws: int = 32768  # (ε, t) draws per probe for the Eq. 9 estimate
    ode_steps: int = 100  # RK4 steps of the exact-likelihood ODE
    interior_per_class: int = 200  # interior points per class for the exact likelihood
    grid: int = 31  # heat-map resolution over [-2, 2]² (grid × grid points)
    bonus_steps: int = 100  # T of the stochastic sampler optimised in the bonus
    bonus_iters: int = 120  # Adam iterations of that optimisation
    bonus_best_of: int = 200  # ordinary samples searched by the simple "best of n" attempt
    improved_t_stop: float = 0.0  # the improved sampler returns x̂_0 at this t (a grid time)
    cpu_threads: int = 1  # torch threads on CPU: for these tiny MLPs one thread is fastest

    def to_json(self) -> dict:
        return asdict(self)


_SETTINGS = {
    "smoke": Settings(
        hidden=64,
        n_layers=2,
        samples_per_class=100,
        eq9_draws=1024,
        ode_steps=10,
        interior_per_class=10,
        grid=11,
        bonus_steps=30,
        bonus_iters=40,
        bonus_best_of=50,
    ),
    "default": Settings(),
    "full": Settings(
        hidden=256,
        samples_per_class=2000,
        eq9_draws=65536,
        ode_steps=200,
        grid=61,
        bonus_steps=200,
        bonus_iters=200,
        bonus_best_of=2000,
    ),
}


def settings(profile: str) -> Settings:
    P.check_profile(profile)
    return _SETTINGS[profile]


# --------------------------------------------------------------------- parameter checks
def check_partition(partition: Partition, min_classes: int = MIN_CLASSES) -> Partition:
    """At least ``min_classes`` classes whose rectangles are disjoint and tile [-1, 1]²."""
    if partition.n_classes < min_classes:
        raise ValueError(
            f"partition: {partition.n_classes} classes; the exercise asks for at least "
            f"{min_classes}"
        )
    rects = [r for _, r in partition.rects()]
    for r in rects:
        if r[0] < -1 or r[1] > 1 or r[2] < -1 or r[3] > 1:
            raise ValueError(f"partition: rectangle {r} leaves the square [-1, 1]²")
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            if (
                min(a[1], b[1]) - max(a[0], b[0]) > 1e-9
                and min(a[3], b[3]) - max(a[2], b[2]) > 1e-9
            ):
                raise ValueError(f"partition: rectangles {a} and {b} overlap")
    if not math.isclose(float(partition.areas().sum()), 4.0, rel_tol=1e-9):
        raise ValueError(
            f"partition: the regions cover an area of {partition.areas().sum():g}, not 4 "
            "(they must tile the square)"
        )
    return partition


def check_point(name: str, value: Any) -> list[float]:
    """[x, y] with finite numbers."""
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{name}={value!r}: expected a point [x, y]")
    return [P.check_float(f"{name}[{i}]", v) for i, v in enumerate(value)]


def check_probe(name: str, value: Any, n_classes: int) -> list:
    """[x, y, class] with finite x, y and an integer class id in [0, n_classes − 1]."""
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 3:
        raise ValueError(f"{name}={value!r}: expected a probe point [x, y, class]")
    x = P.check_float(f"{name}[0]", value[0])
    y = P.check_float(f"{name}[1]", value[1])
    c = value[2]
    if isinstance(c, bool) or not (isinstance(c, int) or (isinstance(c, float) and c.is_integer())):
        raise ValueError(f"{name}[2]={c!r}: expected a class id in [0, {n_classes - 1}]")
    if not 0 <= int(c) < n_classes:
        raise ValueError(f"{name}[2]={c!r}: class id out of range; accepted 0–{n_classes - 1}")
    return [x, y, int(c)]


def checks(partition: Partition = FIVE_REGIONS) -> dict:
    """The parameter checks of notebook 02 (for :func:`genmod.params.resolve`)."""
    k = check_partition(partition).n_classes
    return {
        "n_points": lambda n, v: P.check_int(n, v, 100, 100_000),
        "epochs": lambda n, v: P.check_int(n, v, 1, 100_000),
        "T": lambda n, v: P.check_int(n, v, 1, 10_000),
        "probe_points": lambda n, v: P.check_list(n, v, lambda m, p: check_probe(m, p, k), 1),
        "bonus_target": check_point,
        "cache_dir": lambda n, v: P.check_str(n, v),
        "results_path": lambda n, v: P.check_str(n, v),
        "retrain": P.check_bool,
    }


def resolve_params(given: dict, partition: Partition = FIVE_REGIONS) -> dict:
    """Profile resolution + validation of notebook 02's parameters (before any work)."""
    return P.resolve(given, PROFILES, checks(partition))


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
    """The matched prior of each class at t = 1: N(mean_c, diag(σ(1)² + var_c)).

    p_1(x | c) = p_data(· | c) ⊛ N(0, σ(1)² I) has exactly this mean and per-coordinate
    variance; the exercise's N(0, I) has neither (returns means (C, 2), stds (C, 2)).
    """
    s1 = schedule.sigma_max
    means = torch.tensor(np.stack([partition.mean(c) for c in range(partition.n_classes)]))
    var = torch.tensor(np.stack([partition.var(c) for c in range(partition.n_classes)]))
    return means.float(), torch.sqrt(s1**2 + var).float()


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
    eps_model, z, labels, schedule: Schedule, T: int, t_stops, device="cpu"
) -> dict[float, torch.Tensor]:
    """One DDIM run from z; the denoised estimate x̂_0(x_t, t) at each t in ``t_stops``
    (grid times; t = 0 is the end point's x̂_0, one extra evaluation). Stopping at t_s and
    returning x̂_0 is the "final denoised estimate" sampler: the posterior mean at noise
    σ(t_s) snaps points within ~σ(t_s) of a region back inside it."""
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
    return out


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


def evaluate_probes(
    eps_model,
    probes: list,
    partition: Partition,
    schedule: Schedule,
    T: int,
    n_draws: int,
    ode_steps: int,
    generator: torch.Generator,
    device="cpu",
) -> list[dict]:
    """For each probe [x, y, c]: the Eq. 9 bound −L_T ± its standard error, the exact
    log-likelihood of the PF-ODE sampler (exercise prior N(0, I) and the class's matched
    prior), the terms Eq. 9 leaves out, and the true log density (−log area_c or −inf)."""
    from genmod.diffusion.likelihood import eq9_bound, exact_log_prob, vlb_terms

    x = torch.tensor([[p[0], p[1]] for p in probes], dtype=torch.float32, device=device)
    c = torch.tensor([p[2] for p in probes], dtype=torch.int64, device=device)
    est = eq9_bound(eps_model, x, schedule, T=T, c=c, n_draws=n_draws, generator=generator)
    means, stds = class_prior(partition, schedule)
    ex_std = exact_log_prob(eps_model, x, schedule, c=c, n_steps=ode_steps)
    ex_match = exact_log_prob(
        eps_model, x, schedule, c=c, prior_mean=means[c.cpu()], prior_std=stds[c.cpu()],
        n_steps=ode_steps,
    )  # fmt: skip
    truth = true_log_density(partition, x.cpu(), c.cpu())
    out = []
    for i, (px, py, pc) in enumerate(probes):
        terms = vlb_terms(x[i : i + 1].cpu(), schedule, means[pc], stds[pc])
        out.append(
            {
                "x": float(px),
                "y": float(py),
                "class": int(pc),
                "in_distribution": bool(np.isfinite(truth[i])),
                "in_square": bool(partition.label(np.array([[px, py]]))[0] >= 0),
                "log_prob_bound": float(est.log_prob_bound[i]),
                "stderr": float(est.stderr[i]),
                "exact_log_prob": float(ex_match.log_prob[i]),
                "exact_log_prob_standard_prior": float(ex_std.log_prob[i]),
                "truth": float(truth[i]) if np.isfinite(truth[i]) else None,
                "reconstruction": float(terms["reconstruction"][0]),
                "prior_kl": float(terms["prior_kl"][0]),
            }
        )
    return out


def interior_exact_likelihood(
    eps_model,
    partition: Partition,
    schedule: Schedule,
    n_per_class: int,
    ode_steps: int,
    generator: torch.Generator,
    prior: str = "matched",
    device="cpu",
) -> dict[int, dict]:
    """Per class: the exact PF-ODE log-likelihood averaged over interior points (at least
    :func:`default_margin` from the region's edge), with the sampler's prior ``"matched"``
    (the improved sampler) or ``"standard"`` (N(0, I)); and the truth −log(area_c)."""
    from genmod.diffusion.likelihood import exact_log_prob

    means, stds = class_prior(partition, schedule)
    out = {}
    for c in range(partition.n_classes):
        margin = default_margin(partition, c)
        pts = interior_points(partition, c, n_per_class, margin, generator).to(device)
        kw = {} if prior == "standard" else {"prior_mean": means[c], "prior_std": stds[c]}
        if prior not in ("standard", "matched"):
            raise ValueError(f"prior={prior!r}: accepted 'standard' | 'matched'")
        res = exact_log_prob(eps_model, pts, schedule, c=c, n_steps=ode_steps, **kw)
        lp = res.log_prob.double()
        out[c] = {
            "mean": float(lp.mean()),
            "stderr": float(lp.std() / np.sqrt(len(lp))),
            "truth": float(-np.log(partition.areas()[c])),
            "margin": margin,
            "n": len(lp),
        }
    return out
