"""Section 01 (the unconditional model): parameters, profiles and the notebook's workflows.

The notebook ``notebooks/01_diffusion_unconditional.ipynb`` only orchestrates; everything
longer than a few lines is here and unit-tested. Parameters (DESIGN.md, notebook 01):
``device, seed, profile, results_path, cache_dir, retrain, n_points, epochs, T, T_values,
lam, forward_start``; budgets default to None and come from :data:`PROFILES`.
Per-profile knobs that are not notebook parameters (network size, noise floor repeats, the
NFE grid of the sampler study) live in :data:`SETTINGS` and are recorded in results.json.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from genmod import params as P
from genmod.diffusion import metrics as M
from genmod.diffusion import sampling as S
from genmod.diffusion.data import SQUARE
from genmod.diffusion.models import DenoiserConfig
from genmod.diffusion.schedules import ExpSchedule, Schedule
from genmod.diffusion.train import TrainConfig

SECTION = "diffusion_unconditional"

PROFILES = {
    "smoke": {
        "n_points": 500,
        "epochs": 200,
        "T": 100,
        "T_values": [1, 5, 20, 100],
        "lam": 1.0,
        "forward_start": [1.6, -1.3],
    },
    "default": {
        "n_points": 2000,
        "epochs": 3000,
        "T": 1000,
        "T_values": [1, 2, 5, 10, 20, 50, 100, 1000],
        "lam": 1.0,
        "forward_start": [1.6, -1.3],
    },
    "full": {
        "n_points": 2000,
        "epochs": 6000,
        "T": 1000,
        "T_values": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        "lam": 1.0,
        "forward_start": [1.6, -1.3],
    },
}


@dataclass
class Settings:
    """Per-profile knobs that are not notebook parameters."""

    model: DenoiserConfig = field(default_factory=DenoiserConfig)
    noise_draws: int = 1
    lr: float = 1e-3
    n_samples: int = 1000  # points per sample (U3–U6 and the metrics)
    floor_repeats: int = 100  # repeats of the noise floor
    forward_T: int = 1000  # steps of the U1 forward trajectory
    det_points: int = 200  # points of each of the 10 U6 runs
    n_runs: int = 10  # U6 runs
    study_nfe: list[int] = field(default_factory=lambda: [3, 5, 9, 17, 33, 65, 129, 1001])
    improved_steps: int = 50  # Heun steps of the U5 sampler (NFE = 2·steps + 1)
    schedule_plot_steps: int = 20  # steps of the grids drawn in the U5 σ(t) figure
    cpu_threads: int | None = 1  # small MLPs: one thread avoids synchronisation overhead
    lik_grid: int = 7  # interior grid (lik_grid²) of the exact likelihood check
    lik_steps: int = 100  # RK4 steps of the likelihood ODE
    lik_map: int = 31  # heat-map resolution
    lik_map_steps: int = 50
    eq9_draws: int = 4096  # (t, ε) draws per point of the Eq. 9 estimate

    def to_json(self) -> dict:
        return asdict(self)


_NET = dict(hidden=64, n_layers=3, x_freqs=3, activation="leaky_relu")

SETTINGS = {
    "smoke": Settings(
        model=DenoiserConfig(**_NET),
        lr=3e-3,
        n_samples=500,
        floor_repeats=20,
        forward_T=200,
        det_points=50,
        study_nfe=[3, 9, 33],
        improved_steps=10,
        lik_grid=4,
        lik_steps=20,
        lik_map=11,
        lik_map_steps=10,
    ),
    "default": Settings(model=DenoiserConfig(**_NET)),
    "full": Settings(
        model=DenoiserConfig(**{**_NET, "hidden": 128}),
        floor_repeats=200,
        study_nfe=[3, 5, 9, 17, 33, 65, 129, 257, 1001],
    ),
}


def _check_start(name, value):
    xy = P.check_list(name, value, P.check_float, min_len=2, max_len=2)
    if max(abs(xy[0]), abs(xy[1])) <= 1.0:
        raise ValueError(f"{name}={value!r}: the start point must lie outside the square [-1, 1]²")
    return xy


def _check_opt_str(name, value):
    return None if value is None else P.check_str(name, value)


CHECKS: dict[str, Callable] = {
    "n_points": lambda n, v: P.check_int(n, v, 10, 1_000_000),
    "epochs": lambda n, v: P.check_int(n, v, 1, 10_000_000),
    "T": lambda n, v: P.check_int(n, v, 1, 100_000),
    "T_values": lambda n, v: P.check_list(n, v, lambda m, x: P.check_int(m, x, 1, 100_000), 1, 20),
    "lam": lambda n, v: P.check_float(n, v, 0.0, 100.0),
    "forward_start": _check_start,
    "results_path": P.check_str,
    "retrain": P.check_bool,
}


def resolve_params(given: dict) -> dict:
    """Fill budgets from the profile and validate every parameter (one-line ValueError)."""
    params = P.resolve(given, PROFILES, CHECKS)
    params["cache_dir"] = _check_opt_str("cache_dir", params.get("cache_dir"))
    return params


def train_config(params: dict, settings: Settings) -> TrainConfig:
    return TrainConfig(
        epochs=params["epochs"],
        lr=settings.lr,
        seed=params["seed"],
        noise_draws=settings.noise_draws,
    )


# ---------------------------------------------------------------- samplers by name
@dataclass(frozen=True)
class SamplerSpec:
    """A sampler configuration: integrator, time grid, prior and final step.

    - method: "ddim" (the exercise's Euler step in t), "euler_sigma" (Euler in σ) or "heun";
    - grid: "uniform" (dt = −1/T) or "karras" (ρ-spaced σ, ρ = 7);
    - prior: "standard" (z ~ N(0, I), the exercise's) or "matched" (N(mean, (σ(1)² + var) I));
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


EXERCISE = SamplerSpec()
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


# ---------------------------------------------------------------- workflows of the notebook
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
    in one batch, whose per-step noise comes from one generator seeded once. Returns (runs, n, 2)."""
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


def max_abs_diff(runs: torch.Tensor) -> float:
    """max over runs and points of |run_k − run_0|."""
    return float((runs - runs[0:1]).abs().max())


def trajectories(model, z, steps, spec=EXERCISE, lam=0.0, seed=0, schedule=None, device="cpu"):
    """Trajectories (steps+1, n, 2) and the times (steps+1,) of the points started at z."""
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


def evaluate(points, truth_points, floor: dict) -> dict:
    """Metrics of one sample: inside, edge band, energy distance (+ vs floor p95), KS."""
    return M.summarize(points, truth_points, floor)


def sampler_study(
    model,
    specs: dict[str, SamplerSpec],
    nfe_budgets: list[int],
    n: int,
    seed: int,
    floor: dict,
    schedule=None,
    device="cpu",
) -> dict:
    """Quality per cost: for each sampler and NFE budget, the measured NFE, energy distance
    to a fresh truth sample, inside fraction and edge band (same z for every run)."""
    z = draw_noise(n, seed + 1000)
    g = torch.Generator().manual_seed(seed + 2000)
    truth = M.square_truth(n, g)
    out = {}
    for name, spec in specs.items():
        rec = {
            "label": spec.label,
            "nfe": [],
            "energy_distance": [],
            "inside_fraction": [],
            "edge_band": [],
        }
        done = set()
        for budget in nfe_budgets:
            steps = spec.steps_for_nfe(budget)
            if steps in done:
                continue
            done.add(steps)
            x, nfe = run(model, spec, z, steps, schedule, device=device)
            rec["nfe"].append(nfe)
            rec["energy_distance"].append(M.energy_distance(x, truth))
            rec["inside_fraction"].append(M.inside_fraction(x))
            rec["edge_band"].append(M.edge_band(x))
        out[name] = rec
    return out


def min_nfe_within(study_rec: dict, target: float) -> int | None:
    """Smallest measured NFE whose energy distance is ≤ target (None if never)."""
    ok = [n for n, d in zip(study_rec["nfe"], study_rec["energy_distance"]) if d <= target]
    return min(ok) if ok else None


def sigma_table(schedule: Schedule, ts: torch.Tensor) -> dict:
    """{t: [...], sigma: [...]} of a time grid (for results.json and the U5 figure)."""
    return {
        "t": [float(t) for t in ts],
        "sigma": [float(schedule.sigma(torch.as_tensor(t, dtype=torch.float64))) for t in ts],
    }


def fmt_pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def truth_edge_band(threshold: float = 0.9) -> float:
    return 1.0 - threshold**2


# ---------------------------------------------------------------- notebook support
time_grid = S.time_grid

STUDY_SPECS = {
    "ddim": SamplerSpec("ddim", "uniform", "matched", True),
    "euler_sigma": SamplerSpec("euler_sigma", "uniform", "matched", True),
    "euler_sigma_karras": SamplerSpec("euler_sigma", "karras", "matched", True),
    "heun_karras": SamplerSpec("heun", "karras", "matched", True),
}
IMPROVED = SamplerSpec("heun", "karras", "matched", True)


def configure_threads(device, settings: Settings) -> None:
    """On the CPU, use ``settings.cpu_threads`` threads (None: leave torch's default)."""
    if torch.device(device).type == "cpu" and settings.cpu_threads:
        torch.set_num_threads(settings.cpu_threads)


class Evaluator:
    """Metrics of a sample against a *fresh* truth sample each call (so that every energy
    distance is comparable with the noise floor)."""

    def __init__(self, floor: dict, generator: torch.Generator, n: int):
        self.floor, self.g, self.n = floor, generator, n

    def __call__(self, points, truth=None) -> dict:
        truth = M.square_truth(self.n, self.g) if truth is None else truth
        out = M.summarize(points, truth, self.floor)
        out["outside_median_distance"] = outside_median_distance(points)
        return out

    def paired(self) -> Callable[..., dict]:
        """An evaluator that compares every sample with ONE fresh truth sample (paired
        comparisons between samplers: the truth sample's own noise cancels)."""
        truth = M.square_truth(self.n, self.g)
        return lambda points: self(points, truth)


def outside_median_distance(points) -> float | None:
    """Median of max(|x|, |y|) − 1 over the points outside the square (None: none outside)."""
    p = torch.as_tensor(points).detach().cpu().double()
    d = p.abs().max(dim=1).values - 1.0
    d = d[d > 0]
    return float(np.median(d.numpy())) if len(d) else None


def forward_check(ts, paths, start, schedule: Schedule) -> dict:
    """Empirical mean/variance of many forward paths vs x0 and σ(t)² at t = 0.5 and t = 1,
    and the variance a random walk with σ(t_k)² per step would reach."""
    ts = torch.as_tensor(ts, dtype=torch.float64)
    half = int(torch.searchsorted(ts, torch.tensor(0.5, dtype=torch.float64)))
    s2 = schedule.sigma(ts) ** 2
    x0 = torch.as_tensor(start, dtype=paths.dtype)
    return {
        "n_paths": int(paths.shape[1]),
        "t_half": float(ts[half]),
        "var_half": float(paths[half].var(0).mean()),
        "sigma2_half": float(s2[half]),
        "var_end": float(paths[-1].var(0).mean()),
        "sigma2_end": float(s2[-1]),
        "mean_err": float((paths[-1].mean(0) - x0).abs().max()),
        "random_walk_var_end": float(s2.sum()),
    }


def oracle_loss(oracle, x0, schedule: Schedule, draws: int = 20, seed: int = 0) -> dict:
    """The exercise's loss E‖ε*(x_t, t) − ε‖² of the oracle (the irreducible part of the
    loss), estimated over ``draws`` full-batch draws: {mean, stderr}."""
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


def steps_sweep(model, oracle, z, T_values, schedule, evaluate, device="cpu") -> dict:
    """U4: the exercise's sampler from the same noise for each T, learned and oracle."""
    out = {"points": [], "learned": [], "oracle": []}
    for T in T_values:
        x, _ = run(model, EXERCISE, z, T, schedule, device=device)
        xo, _ = run(oracle, EXERCISE, z, T, schedule, device=device)
        out["points"].append(x)
        out["learned"].append(evaluate(x))
        out["oracle"].append(evaluate(xo))
    return out


def study_reach(study: dict, reference: float, floor: dict) -> dict:
    """Per sampler: the smallest NFE whose energy distance is within the noise floor's spread
    (p95 − median) of ``reference`` (DDIM's at the largest T), and its best value at ≤ 20 NFE."""
    tol = reference + floor["p95"] - floor["median"]
    out = {"reference": reference, "tolerance": tol}
    for name, rec in study.items():
        low = [d for nf, d in zip(rec["nfe"], rec["energy_distance"]) if nf <= 20]
        out[name] = {
            "label": rec["label"],
            "min_nfe_within_floor": min_nfe_within(rec, tol),
            "best_energy_distance_at_most_20_nfe": min(low) if low else None,
        }
    return out


def study_sentence(reach: dict, ref_nfe: int) -> str:
    parts = []
    for name, r in reach.items():
        if name in ("reference", "tolerance"):
            continue
        k = r["min_nfe_within_floor"]
        parts.append(
            f"{r['label']}: {k} NFE"
            if k is not None
            else f"{r['label']}: not within the measured NFE"
        )
    return (
        f"the NFE at which each integrator first comes within the noise floor's spread of the "
        f"energy distance of Euler in t at {ref_nfe} NFE ({reach['reference']:.5f}) are — "
        + "; ".join(parts)
        + "."
    )


def first_T(T_values, values, pred) -> int | None:
    """The smallest T from which on ``pred(value)`` holds for every larger T in the sweep."""
    ok = [bool(pred(v)) for v in values]
    for k in range(len(T_values)):
        if all(ok[k:]):
            return T_values[k]
    return None


def ablation(
    model,
    oracle,
    z,
    T,
    improved_steps,
    schedule,
    evaluate,
    device="cpu",
    exercise_points: tuple | None = None,
) -> dict:
    """U5: each ingredient of the improved sampler on its own, learned and oracle.

    Only two Euler trajectories per denoiser are integrated (N(0, I) and matched prior); the
    "final x̂₀" rows apply one more evaluation x̂₀ = x − σ(0)·ε̂(x, 0) to their end points.
    ``exercise_points`` = (learned, oracle) end points of the exercise's sampler from the same
    z, if already computed. ``evaluate`` should compare every row with the same truth sample."""
    schedule = schedule or ExpSchedule()
    t_end = 0.0
    ends = {}
    for prior in ("standard", "matched"):
        spec = SamplerSpec("ddim", "uniform", prior, False)
        if prior == "standard" and exercise_points is not None:
            ends[prior] = tuple(exercise_points)
        else:
            ends[prior] = tuple(
                run(m, spec, z, T, schedule, device=device)[0] for m in (model, oracle)
            )
    out = {}

    def add(name, spec, steps, pts):
        out[name] = {
            "label": spec.label,
            "nfe": spec.nfe(steps),
            "steps": steps,
            "learned": evaluate(pts[0]),
            "oracle": evaluate(pts[1]),
            "points": pts[0],
        }

    def final(pts):
        with torch.inference_mode():
            return tuple(
                S.denoised(m, p.to(device), t_end, schedule).cpu()
                for m, p in zip((model, oracle), pts)
            )

    add("exercise", EXERCISE, T, ends["standard"])
    add("matched_prior", SamplerSpec("ddim", "uniform", "matched", False), T, ends["matched"])
    add(
        "final_denoise",
        SamplerSpec("ddim", "uniform", "standard", True),
        T,
        final(ends["standard"]),
    )
    add(
        "matched_prior_final_denoise",
        SamplerSpec("ddim", "uniform", "matched", True),
        T,
        final(ends["matched"]),
    )
    imp = tuple(
        run(m, IMPROVED, z, improved_steps, schedule, device=device)[0] for m in (model, oracle)
    )
    add("improved", IMPROVED, improved_steps, imp)
    return out


def rounded(x, digits: int = 5):
    """A tensor as nested lists rounded to ``digits`` decimals (compact results.json)."""
    a = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    return np.round(a.astype(np.float64), digits).tolist()


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def row(m: dict) -> list[str]:
    """Table cells of a metrics dict: inside, edge band, energy distance, KS p-values."""
    return [
        pct(m["inside_fraction"]),
        f"{m['edge_band']:.3f}",
        f"{m['energy_distance']:.5f}",
        f"{m['ks']['x']['pvalue']:.3f}, {m['ks']['y']['pvalue']:.3f}",
    ]


def table(headers, rows) -> str:
    """A Markdown table, displayed in the notebook (printed outside it); returns the text."""
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    text = "\n".join(lines)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return text
    except ImportError:
        pass
    print(text)
    return text


def _ks_pass(m: dict, alpha: float = 0.05) -> bool:
    return m["ks"]["x"]["pvalue"] > alpha and m["ks"]["y"]["pvalue"] > alpha


def seeds_sentence(per_seed: list[dict], floor: dict) -> str:
    """Robustness of a sampler over several seeds: ranges and counts of targets met."""
    ins = np.array([m["inside_fraction"] for m in per_seed])
    edge = np.array([m["edge_band"] for m in per_seed])
    below = sum(m["energy_distance"] <= floor["p95"] for m in per_seed)
    ks = sum(_ks_pass(m) for m in per_seed)
    k = len(per_seed)
    return (
        f"Over the {k} seeds of U3 the improved sampler puts {pct(ins.min())}–{pct(ins.max())} inside, "
        f"{edge.min():.3f}–{edge.max():.3f} in the edge band; its energy distance is below the noise "
        f"floor's 95th percentile for {below} of {k} seeds (a sample of the truth itself: 95 % of the "
        f"time), and both marginals pass the KS test at 5 % for {ks} of {k}."
    )


def grids_sentence(grids: dict, small: float = 0.05) -> str:
    """First/last step of each σ grid and how many steps each spends below σ = ``small``."""
    parts, ks = [], []
    for name, g in grids.items():
        s = np.asarray(g["sigma"])
        k = int((s[1:] < small).sum())
        ks.append(k)
        parts.append(
            f"{name}, {len(s) - 1} steps: first step σ {s[0]:.3f} → {s[1]:.3f}, last step "
            f"{s[-2]:.4f} → {s[-1]:.4f}, {k} steps end below σ = {small:g}"
        )
    text = "; ".join(parts) + ". For this schedule a uniform dt is already geometric in σ"
    if len(ks) == 2 and ks[0] != ks[1]:
        where = "from" if ks[1] < ks[0] else "to"
        text += (
            f"; the ρ-spaced grid moves {abs(ks[0] - ks[1])} of the steps {where} the noise levels "
            f"below σ = {small:g}"
        )
    return text + "."


def study_compare_sentence(study: dict | None, target: int = 9) -> str:
    """Energy distance of every sampler of the study at its measured NFE closest to
    ``target`` (same prior, same final step, same noise, same truth sample)."""
    if not study:
        return ""
    parts = []
    for rec in study.values():
        if not rec["nfe"]:
            continue
        j = int(np.argmin([abs(n - target) for n in rec["nfe"]]))
        method, grid = rec["label"].split(",")[:2]
        parts.append(
            f"{method} on {grid.strip()}: {rec['energy_distance'][j]:.5f} at {rec['nfe'][j]} NFE"
        )
    return f"Energy distance at about {target} evaluations — " + "; ".join(parts) + "."


def u5_answer(
    abl: dict,
    floor: dict,
    reach: dict,
    ref_nfe: int,
    seeds_text: str = "",
    grids: dict | None = None,
    study: dict | None = None,
) -> str:
    """The U5 answer, rendered from the ablation, the noise floor and the sampler study."""
    ex, mp, fd, both, imp = (
        abl[k]
        for k in (
            "exercise",
            "matched_prior",
            "final_denoise",
            "matched_prior_final_denoise",
            "improved",
        )
    )
    L, Orc = imp["learned"], imp["oracle"]
    tb = truth_edge_band()
    meets = (
        L["inside_fraction"] >= 0.98
        and L["energy_distance"] <= floor["p95"]
        and abs(L["edge_band"] - tb) <= 0.03
        and _ks_pass(L)
    )
    ks = f"KS p-values {L['ks']['x']['pvalue']:.2f} (x) and {L['ks']['y']['pvalue']:.2f} (y)"
    verdict = (
        "It fills the square to its edges and corners"
        if meets
        else "It does not meet every target; measured"
    )
    hk = reach.get("heun_karras", {}).get("min_nfe_within_floor")
    text = (
        f"**Choice.** {imp['label']}, {imp['steps']} steps = {imp['nfe']} network evaluations "
        f"(the exercise's sampler uses {ex['nfe']}). {verdict}: with the trained network "
        f"{pct(L['inside_fraction'])} of the samples are inside, the edge band holds "
        f"{L['edge_band']:.3f} (truth {tb:.2f}; the exercise's sampler {ex['learned']['edge_band']:.3f}), "
        f"the energy distance to fresh true samples is {L['energy_distance']:.5f} (noise floor: median "
        f"{floor['median']:.5f}, 95th percentile {floor['p95']:.5f}; exercise's sampler "
        f"{ex['learned']['energy_distance']:.5f}) and the marginals pass the KS test against U(−1, 1) "
        f"at 5 % {'(' + ks + ')' if _ks_pass(L) else 'only partly (' + ks + ')'}; with the oracle: "
        f"{pct(Orc['inside_fraction'])} inside, edge band {Orc['edge_band']:.3f}. "
        f"{seeds_text}\n\n"
        f"The figure shows the schedule σ(t) = e^(5(t−1)) sampled by the original uniform grid and by "
        f"the modified ρ-spaced grid (left: on the σ(t) curve; middle: σ per step). "
        + grids_sentence(grids)
        + "\n\n"
        f"**Rules of thumb, each measured here.**\n\n"
        f"1. *Start from the true marginal at t = 1.* Only the prior changed (matched instead of "
        f"N(0, I), same Euler steps): edge band {ex['learned']['edge_band']:.3f} → "
        f"{mp['learned']['edge_band']:.3f} with the network and {ex['oracle']['edge_band']:.3f} → "
        f"{mp['oracle']['edge_band']:.3f} with the oracle (truth {tb:.2f}); energy distance "
        f"{ex['learned']['energy_distance']:.5f} → {mp['learned']['energy_distance']:.5f}.\n"
        f"2. *Finish with the denoised estimate x̂₀.* The ODE stops at σ(0) = e^(−5); returning "
        f"x̂₀ removes that blur: with the oracle and the matched prior, inside "
        f"{pct(mp['oracle']['inside_fraction'])} → {pct(both['oracle']['inside_fraction'])}; with the "
        f"network {pct(mp['learned']['inside_fraction'])} → {pct(both['learned']['inside_fraction'])}"
        + (
            f" (the points the network leaves outside lie a median "
            f"{both['learned']['outside_median_distance']:.3f} outside, far more than "
            f"σ(0) = {math.exp(-5):.4f}, so the final step cannot pull them in: that is the "
            f"network's own error)"
            if (both["learned"].get("outside_median_distance") or 0.0) > 3 * math.exp(-5)
            else ""
        )
        + f". On its own, with N(0, I), it gives edge band "
        f"{fd['learned']['edge_band']:.3f}: it cannot undo the prior's shrink.\n"
        f"3. *Check the sampler with the oracle before blaming the network.* The exercise's sampler "
        f"with the oracle reaches an edge band of only {ex['oracle']['edge_band']:.3f}; the network "
        f"reaches {ex['learned']['edge_band']:.3f}"
        + (
            ", as good as the sampler allows.\n"
            if abs(ex["learned"]["edge_band"] - ex["oracle"]["edge_band"]) <= 0.03
            and ex["learned"]["inside_fraction"] >= ex["oracle"]["inside_fraction"] - 0.01
            else ", so here the network adds its own error on top of the sampler's.\n"
        )
        + "4. *Take higher-order steps in σ, not Euler steps in t.* "
        + study_compare_sentence(study)
        + " Heun on ρ-spaced σ "
        + (
            f"comes within the noise floor's spread of Euler-in-t's {ref_nfe}-evaluation distance "
            f"at {hk} NFE"
            if hk is not None
            else "does not reach Euler-in-t's distance within the measured NFE"
        )
        + f"; here {imp['nfe']} NFE give an energy distance of {L['energy_distance']:.5f} vs "
        f"{both['learned']['energy_distance']:.5f} for {both['nfe']} Euler steps in t with the same prior "
        f"and final step (see the study in U4)."
    )
    return text


def u6_answer(det: dict, sto: dict, xs_d, xs_s) -> str:
    same = det["max_abs_diff"] == 0.0
    ins = np.array(sto["inside_fraction"])
    end_d = xs_d[-1]
    end_s = xs_s[-1]
    in_d = int(M.inside_fraction(end_d) * len(end_d) + 0.5)
    in_s = int(M.inside_fraction(end_s) * len(end_s) + 0.5)
    return (
        f"Ten DDIM runs from the same {det['n_points']} noise points (T = {det['T']}): the largest "
        f"absolute difference between any run and the first is {det['max_abs_diff']:.3g}"
        + (
            ", i.e. the outputs are bit-for-bit identical: DDIM is a deterministic map from the "
            "noise to the sample, so all ten runs lie on top of each other in the figure. "
            if same
            else ": the outputs are not identical (numerical non-determinism of this device). "
        )
        + f"With the stochastic sampler (λ = {sto['lam']:g}), which injects fresh noise at every step, "
        f"the ten runs differ: max |difference| {sto['max_abs_diff']:.3f}, mean spread of a point "
        f"across runs {sto['mean_spread']:.3f}; each run is a sample of its own, with "
        f"{pct(ins.min())}–{pct(ins.max())} of its points inside. In the trajectories, the DDIM "
        f"paths are smooth: their length is {path_ratio(xs_d):.2f} times the straight-line distance "
        f"from start to end ({in_d} of 4 end inside); the stochastic paths wander "
        f"({path_ratio(xs_s):.1f} times the straight-line distance), the injected noise being "
        f"balanced by a drift (1 + λ²) times DDIM's ({in_s} of 4 end inside)."
    )


def loss_progress_sentence(history, best: float) -> str:
    """How quickly the loss approaches its final value (measured): the epoch by which 90 % of
    the total decrease (first 10 epochs → last 100) is done."""
    h = np.asarray(history, dtype=float)
    if len(h) < 20:
        return ""
    first = h[:10].mean()
    final = h[-min(100, len(h)) :].mean()
    w = min(50, len(h) // 10)
    rm = np.convolve(h, np.ones(w) / w, mode="valid")
    target = first - 0.9 * (first - final)
    hit = np.nonzero(rm <= target)[0]
    if first <= final or len(hit) == 0:
        return "The loss did not decrease measurably over training."
    ep = int(hit[0]) + w
    return (
        f"90 % of the total decrease is reached by epoch {ep} of {len(h)} (running mean over {w} "
        f"epochs), hence the logarithmic epoch axis."
    )


def loss_vs_oracle_sentence(history, best: dict, n_points: int) -> str:
    """Compare the final training loss (mean of the last 100 epochs) with the oracle's loss,
    with two standard errors."""
    k = min(100, len(history))
    h = np.asarray(history[-k:], dtype=float)
    final = h.mean()
    se = math.sqrt((h.std(ddof=1) ** 2 / k if k > 1 else 0.0) + best["stderr"] ** 2)
    diff = final - best["mean"]
    if abs(diff) <= 2 * se:
        return (
            f"the trained network's final loss is indistinguishable from this optimum (difference "
            f"{diff:+.3f} ± {2 * se:.3f}, two standard errors)."
        )
    if diff < 0:
        return (
            f"the trained network's final loss is {-diff:.3f} below it (± {2 * se:.3f}): it fits "
            f"the {n_points} training points themselves, for which the oracle of the whole square "
            f"is not exactly optimal."
        )
    return f"the trained network is {diff:.3f} above this optimum (± {2 * se:.3f})."


def path_ratio(xs) -> float:
    """Mean over points of (path length)/(net displacement) of trajectories (K, n, 2)."""
    x = torch.as_tensor(xs).double()
    length = (x[1:] - x[:-1]).norm(dim=-1).sum(0)
    disp = (x[-1] - x[0]).norm(dim=-1).clamp_min(1e-12)
    return float((length / disp).mean())


# ---------------------------------------------------------------- exact likelihood (issue 6)
def interior_grid(n: int = 7, margin: float = 0.2) -> torch.Tensor:
    """n×n grid of points at least ``margin`` from the square's edges, (n², 2)."""
    u = torch.linspace(-1 + margin, 1 - margin, n)
    xx, yy = torch.meshgrid(u, u, indexing="ij")
    return torch.stack([xx.ravel(), yy.ravel()], 1)


def likelihood_check(
    model,
    oracle,
    schedule: Schedule,
    n_grid: int = 7,
    n_steps: int = 100,
    device="cpu",
    eq9_T: int | None = None,
    eq9_draws: int = 4096,
    eq9_seed: int = 0,
) -> dict:
    """Exact log-likelihood (PF-ODE + exact divergence, genmod.diffusion.likelihood) of the
    deterministic sampler's distribution at interior points, for the learned network and the
    oracle with the matched prior, and the learned network with the exercise's N(0, I) prior.
    With ``eq9_T``, also the exercise's Eq. 9 value −L_T (learned network) at the same points,
    and the two terms it leaves out of the variational bound (N(0, I) prior).
    Returns {variant: {mean, min, max, stderr}, eq9: {...}, truth: −log 4}."""
    from genmod.diffusion.likelihood import exact_log_prob

    pts = interior_grid(n_grid).to(device)
    mean, std = prior_params(IMPROVED, schedule)
    variants = {
        "learned_matched": (model, mean, std),
        "oracle_matched": (oracle, mean, std),
        "learned_standard": (model, None, 1.0),
        "oracle_standard": (oracle, None, 1.0),
    }
    out: dict = {"truth": -math.log(4.0), "n_points": int(pts.shape[0]), "n_steps": n_steps}
    if eq9_T:
        from genmod.diffusion.likelihood import eq9_bound, vlb_terms

        g = torch.Generator().manual_seed(eq9_seed)
        b = eq9_bound(model, pts, schedule, T=eq9_T, n_draws=eq9_draws, generator=g)
        lt = b.log_prob_bound.double().cpu()
        terms = vlb_terms(pts.cpu(), schedule)  # the exercise's N(0, I) prior
        full = lt + terms["reconstruction"] - terms["prior_kl"]
        out["eq9"] = {
            "T": eq9_T,
            "n_draws": int(b.n_draws),
            "mean": float(lt.mean()),
            "mc_stderr_max": float(b.stderr.max()),
            "reconstruction": float(terms["reconstruction"][0]),
            "prior_kl_mean": float(terms["prior_kl"].mean()),
            "full_bound_mean": float(full.mean()),
        }
    for name, (m, pm, ps) in variants.items():
        r = exact_log_prob(m, pts, schedule, prior_mean=pm, prior_std=ps, n_steps=n_steps)
        lp = r.log_prob.double().cpu().numpy()
        out[name] = {
            "mean": float(lp.mean()),
            "min": float(lp.min()),
            "max": float(lp.max()),
            "stderr": float(lp.std(ddof=1) / math.sqrt(len(lp))),
            "nfe": int(r.nfe),
        }
    return out


def likelihood_map(
    model, schedule: Schedule, n: int = 31, lim: float = 1.5, n_steps: int = 60, device="cpu"
):
    """Exact log-likelihood of the improved sampler's distribution (matched prior) on an n×n
    grid over [−lim, lim]²: (grid axis (n,), log p (n, n) indexed [y, x])."""
    from genmod.diffusion.likelihood import exact_log_prob

    u = torch.linspace(-lim, lim, n)
    yy, xx = torch.meshgrid(u, u, indexing="ij")
    pts = torch.stack([xx.ravel(), yy.ravel()], 1).to(device)
    mean, std = prior_params(IMPROVED, schedule)
    r = exact_log_prob(model, pts, schedule, prior_mean=mean, prior_std=std, n_steps=n_steps)
    return u, r.log_prob.reshape(n, n).cpu()


def likelihood_sentence(lk: dict) -> str:
    t = lk["truth"]

    def f(k):
        v = lk[k]
        return f"{v['mean']:.3f} (Δ = {v['mean'] - t:+.3f}; range over the points {v['min']:.2f} … {v['max']:.2f})"

    lm = lk["learned_matched"]["mean"]
    ls = lk["learned_standard"]["mean"]
    return (
        f"Exact log-likelihood of the deterministic sampler's distribution (probability-flow ODE "
        f"integrated with {lk['n_steps']} RK4 steps, exact 2D divergence) averaged over "
        f"{lk['n_points']} interior points at least 0.2 from the edges, against the truth "
        f"log(1/4) = {t:.3f}: learned network with the matched prior {f('learned_matched')}; "
        f"oracle with the matched prior {f('oracle_matched')}; learned network with the "
        f"exercise's N(0, I) prior {f('learned_standard')}; oracle with N(0, I) "
        f"{f('oracle_standard')}. "
        + (
            f"The exercise's prior gives a {'higher' if ls > lm else 'lower'} interior density "
            f"({ls - lm:+.3f} nats): its samples fill a smaller square, so they are denser inside."
            if ls > lm
            else f"The exercise's prior gives {ls - lm:+.3f} nats relative to the matched prior."
        )
        + (eq9_sentence(lk["eq9"], t, ls) if "eq9" in lk else "")
    )


def eq9_sentence(e: dict, truth: float, exact_standard: float | None = None) -> str:
    text = (
        f" For comparison, the exercise's Eq. 9 value −L_T (T = {e['T']}, {e['n_draws']} draws "
        f"per point, Monte-Carlo standard error ≤ {e['mc_stderr_max']:.3f}) averages "
        f"{e['mean']:.3f} at the same points, {e['mean'] - truth:+.3f} from the truth: it is only the "
        f"diffusion term of a variational bound. Adding the reconstruction term "
        f"({e['reconstruction']:+.2f}, the Gaussian decoder with σ(0) = e^(−5)) and subtracting the "
        f"prior KL to N(0, I) (mean {e['prior_kl_mean']:.2f}) gives the full bound "
        f"{e['full_bound_mean']:.3f} ({e['full_bound_mean'] - truth:+.3f} from the truth)"
    )
    if exact_standard is not None:
        rel = "below" if e["full_bound_mean"] <= exact_standard else "above"
        text += (
            f", {rel} the exact log-likelihood of the deterministic sampler with the same network "
            f"and prior ({exact_standard:.3f}). (Strictly, the variational bound bounds the "
            f"likelihood of the stochastic discrete-time model, which equals the ODE's only for a "
            f"perfect denoiser.)"
        )
    else:
        text += "."
    return text


def profiles_table(current: str) -> str:
    """The profiles (budgets and network) as a Markdown table, the current one marked."""
    rows = []
    for name, prof in PROFILES.items():
        st = SETTINGS[name]
        rows.append(
            [
                f"**{name}**" if name == current else name,
                prof["n_points"],
                prof["epochs"],
                prof["T"],
                ", ".join(map(str, prof["T_values"])),
                f"{st.model.n_layers}×{st.model.hidden}",
                st.n_samples,
                st.floor_repeats,
                ", ".join(map(str, st.study_nfe)),
            ]
        )
    return table(
        [
            "profile",
            "n_points",
            "epochs",
            "T",
            "T_values",
            "MLP",
            "samples",
            "floor repeats",
            "study NFE",
        ],
        rows,
    )


def u4_answer(Tv, L: list[dict], Orc: list[dict], floor: dict, reach: dict, ref_nfe: int) -> str:
    """The U4 answer from the T sweep (learned L and oracle Orc metrics per T) and the study."""
    i_max = len(Tv) - 1
    spread = floor["p95"] - floor["median"]
    T_ed = first_T(
        Tv, [m["energy_distance"] for m in L], lambda v: v <= L[i_max]["energy_distance"] + spread
    )
    T_edge = first_T(
        Tv, [m["edge_band"] for m in L], lambda v: abs(v - L[i_max]["edge_band"]) <= 0.02
    )
    factor = {T: 1 - 5 / T for T in Tv}
    text = (
        f"With T = {Tv[0]} step(s) {pct(L[0]['inside_fraction'])} of the samples are inside "
        f"(oracle: {pct(Orc[0]['inside_fraction'])}); with T = {Tv[i_max]}, "
        f"{pct(L[i_max]['inside_fraction'])} (oracle {pct(Orc[i_max]['inside_fraction'])}). "
        f"Few steps fail because of the exercise's Euler step in t: along the ODE the noise part of x "
        f"shrinks like σ(t), i.e. by the factor e^(−5/T) per step, but one Euler step multiplies it by "
        f"1 − σ̇·dt/σ = 1 − 5/T, which is {factor[Tv[0]]:+.2f} for T = {Tv[0]} instead of "
        f"{math.exp(-5 / Tv[0]):.4f}"
        + (" (the points overshoot through the square)" if factor[Tv[0]] < 0 else "")
    )
    if len(Tv) > 1:
        text += f", and {factor[Tv[1]]:+.2f} instead of {math.exp(-5 / Tv[1]):.4f} for T = {Tv[1]}"
    text += ". "
    # the inside fraction alone can mislead: a collapsed sample is "inside" too
    cand = [
        (L[k]["edge_band"], k)
        for k in range(i_max)
        if L[k]["inside_fraction"] >= 0.99 and L[k]["edge_band"] < 0.5 * L[i_max]["edge_band"]
    ]
    if cand:
        _, k = min(cand)
        text += (
            f"The inside fraction alone is misleading: at T = {Tv[k]}, {pct(L[k]['inside_fraction'])} "
            f"are inside but only {L[k]['edge_band']:.3f} lie in the edge band (energy distance "
            f"{L[k]['energy_distance']:.4f}): the sample is squeezed towards the centre. "
        )
    if T_edge is not None:
        text += (
            f"The edge band settles within 0.02 of its T = {Tv[i_max]} value from T = {T_edge} on"
        )
        text += (
            f", and the energy distance within the noise floor's spread ({spread:.5f}) of it from "
            f"T = {T_ed} on. "
            if T_ed is not None
            else ". "
        )
    text += (
        f"Beyond that, more Euler steps do not remove the remaining error, which is the prior's "
        f"(edge band {L[i_max]['edge_band']:.3f} at T = {Tv[i_max]}, {Orc[i_max]['edge_band']:.3f} with "
        f"the oracle, truth {truth_edge_band():.2f}; see U5). The sampler study shows how to spend "
        f"evaluations better: " + study_sentence(reach, ref_nfe)
    )
    return text
