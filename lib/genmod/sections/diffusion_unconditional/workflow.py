"""The computations of section 01, in the notebook's order.

Each step is a function of explicit inputs (the parameters ``p``, the settings ``st``, the
device and the outcomes of earlier steps) returning a :class:`~genmod.sections.common.Step`:
its results.json records and the tensors later steps and the figures use. Random draws come
from the run's named streams (:data:`STREAMS`). The evaluator of :func:`setup` compares each
sample with fresh truth samples drawn from the stream of the step that asks for it
(:meth:`Setup.evaluator`), so no step's figures depend on which steps ran before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from genmod.diffusion import metrics as M
from genmod.diffusion import samplers as SP
from genmod.diffusion import sampling as S
from genmod.diffusion.data import SQUARE, make_square_data
from genmod.diffusion.forward import forward_check, forward_trajectory
from genmod.diffusion.oracle import Oracle, oracle_loss
from genmod.diffusion.schedules import ExpSchedule, Schedule
from genmod.diffusion.train import TrainConfig, train_denoiser
from genmod.runtime import Streams
from genmod.sections.common import Step

ODE_DENSITY = "probability-flow ODE output at t = 0"
DENOISED_DENSITY = "denoised estimate x̂₀ of the probability-flow ODE output at t = 0"

#: The section's random streams: name → offset from the run's seed.
STREAMS = {
    "data": 0,
    "noise_floor": 1,
    "evaluator": 2,  # U3's truth samples
    "evaluator_u4": 12,
    "evaluator_u5": 13,
    "forward": 3,
    "oracle_loss": 4,
    "truth_u3": 5,
    "determinism": 7,
    "stochastic": 8,
    "trajectories": 9,
    "trajectories_stochastic": 10,
    "eq9": 11,
    "study_noise": 1000,
    "study_truth": 2000,
}


def rounded(x, digits: int = 5):
    """A tensor as nested lists rounded to ``digits`` decimals (compact results.json)."""
    a = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    return np.round(a.astype(np.float64), digits).tolist()


# ---------------------------------------------------------------- data and noise floor
@dataclass
class Setup(Step):
    streams: Streams
    schedule: Schedule
    oracle: Oracle
    x0: torch.Tensor
    n: int
    floor: dict

    def evaluator(self, stream: str) -> M.Evaluator:
        """Metrics against fresh truth samples, drawn in turn from the stream ``stream``."""
        return M.Evaluator(self.floor, self.streams.generator(stream), self.n)


def setup(p: dict, st) -> Setup:
    """Schedule, oracle, training data and the noise floor of the energy distance."""
    streams = Streams(p["seed"], STREAMS)
    schedule = ExpSchedule(5.0)
    x0 = make_square_data(p["n_points"], streams.seed_of("data"))
    n = st.n_samples
    floor = M.noise_floor(
        M.square_truth, n=n, repeats=st.floor_repeats, seed=streams.seed_of("noise_floor")
    )
    record = {k: floor[k] for k in ("median", "p95", "n", "repeats")}
    return Setup(
        {"noise_floor": record}, streams, schedule, Oracle(SQUARE, schedule), x0, n, floor
    )  # fmt: skip


# ---------------------------------------------------------------- U1
@dataclass
class Forward(Step):
    ts: torch.Tensor
    path: torch.Tensor


def forward(p: dict, st, s: Setup) -> Forward:
    """One forward path from ``forward_start`` and the variance check over many paths."""
    g = s.streams.generator("forward")
    start = p["forward_start"]
    ts, path = forward_trajectory(start, s.schedule, T=st.forward_T, generator=g)
    path = path[:, 0]
    _, many = forward_trajectory(
        start, s.schedule, T=st.forward_T, generator=g, n_paths=st.forward_paths
    )
    check = forward_check(ts, many, start, s.schedule)
    half = int(np.searchsorted(ts.numpy(), 0.5))
    x0 = torch.tensor(start, dtype=path.dtype)
    record = {
        "start": start,
        "trajectory": [[float(t), float(q[0]), float(q[1])] for t, q in zip(ts, path)],
        "check": check,
        "steps": st.forward_T,
        "distance_half": float(torch.linalg.norm(path[half] - x0)),
        "distance_end": float(torch.linalg.norm(path[-1] - x0)),
    }
    return Forward({"forward": record}, ts, path)


# ---------------------------------------------------------------- U2
@dataclass
class Trained(Step):
    model: torch.nn.Module


def train(p: dict, st, s: Setup, device) -> Trained:
    """Train (or load) the denoiser and estimate the oracle's loss on the training points."""
    tcfg = TrainConfig(epochs=p["epochs"], lr=st.lr, seed=p["seed"], noise_draws=st.noise_draws)
    model, history, from_cache = train_denoiser(
        st.model,
        tcfg,
        s.x0,
        schedule=s.schedule,
        device=device,
        cache_dir=p["cache_dir"],
        retrain=p["retrain"],
        name="unconditional",
    )
    best = oracle_loss(
        s.oracle,
        s.x0,
        s.schedule,
        draws=st.oracle_loss_draws,
        seed=s.streams.seed_of("oracle_loss"),
    )
    k = min(100, len(history))
    k0 = min(10, len(history))
    record = {
        "loss_history": history,
        "final_loss": float(np.mean(history[-k:])),
        "final_loss_window": k,
        "initial_loss": float(np.mean(history[:k0])),
        "initial_loss_window": k0,
        "oracle_loss": best,
        "epochs": tcfg.epochs,
        "noise_draws": tcfg.noise_draws,
        "from_cache": from_cache,
        "seconds": model.train_seconds,
        "model": st.model.to_json(),
        "n_parameters": sum(q.numel() for q in model.parameters()),
    }
    return Trained({"train": record}, model)


# ---------------------------------------------------------------- U3
@dataclass
class NineSeeds(Step):
    seeds: list[int]
    z9: torch.Tensor
    x9: torch.Tensor
    x_oracle: torch.Tensor
    per_seed: list[dict]


def nine_seeds(p: dict, s: Setup, trained: Trained, device) -> NineSeeds:
    """The exercise's sampler with nine seeds, the oracle from the first seed's noise and a
    fresh truth sample, all measured."""
    n, T = s.n, p["T"]
    seeds = [p["seed"] * 1000 + k for k in range(9)]
    z9, x9 = SP.sample_seeds(trained.model, seeds, n, T, device=device)
    x_or, _ = SP.run(s.oracle, SP.EXERCISE, z9[0], T, s.schedule, device=device)
    evaluate = s.evaluator("evaluator")
    per_seed = [evaluate(x) for x in x9]
    m_or = evaluate(x_or)
    m_truth = evaluate(M.square_truth(n, s.streams.generator("truth_u3")))
    sp_l, sp_o = M.spread(x9.reshape(-1, 2)), M.spread(x_or)
    first = per_seed[0]
    samples = {
        "points": rounded(x9[0]),
        "T": T,
        "seed": seeds[0],
        "n_points": n,
        "inside_fraction": first["inside_fraction"],
        "edge_band": first["edge_band"],
        "energy_distance": first["energy_distance"],
        "ks": first["ks"],
        "corner_share": first["corner_share"],
        "oracle_inside_fraction": m_or["inside_fraction"],
        "oracle_edge_band": m_or["edge_band"],
        "oracle_energy_distance": m_or["energy_distance"],
        "oracle_ks": m_or["ks"],
        "oracle_corner_share": m_or["corner_share"],
        "truth_sample": m_truth,
        "truth_edge_band": M.truth_edge_band(),
        "truth_corner_share": M.TRUTH_CORNER_SHARE,
        "seeds_inside_fraction": [m["inside_fraction"] for m in per_seed],
        "seeds_edge_band": [m["edge_band"] for m in per_seed],
        "seeds_energy_distance": [m["energy_distance"] for m in per_seed],
        "seeds_corner_share": [m["corner_share"] for m in per_seed],
        "std_per_coordinate": {
            "learned": sp_l["std"],
            "oracle": sp_o["std"],
            "truth": (1 / 3) ** 0.5,
            "learned_stderr": sp_l["stderr"],
            "oracle_stderr": sp_o["stderr"],
            "learned_points": sp_l["n"],
        },
        "prior_var": 1.0,
        "t1_marginal_var": s.schedule.sigma_max**2 + float(SQUARE.var().mean()),
    }
    records = {"samples": samples, "seeds": {"seeds": seeds, "points": rounded(x9)}}
    return NineSeeds(records, seeds, z9, x9, x_or, per_seed)


# ---------------------------------------------------------------- U4
@dataclass
class StepsSweep(Step):
    points: list[torch.Tensor]


def steps_sweep(p: dict, s: Setup, trained: Trained, nine: NineSeeds, device) -> StepsSweep:
    """U4: the exercise's sampler from the first seed's noise for each T, learned and oracle."""
    evaluate = s.evaluator("evaluator_u4")
    z = nine.z9[0]
    pts, learned, orc = [], [], []
    for T in p["T_values"]:
        x, _ = SP.run(trained.model, SP.EXERCISE, z, T, s.schedule, device=device)
        xo, _ = SP.run(s.oracle, SP.EXERCISE, z, T, s.schedule, device=device)
        pts.append(x)
        learned.append(evaluate(x))
        orc.append(evaluate(xo))
    rec = {
        "T_values": p["T_values"],
        "points": [rounded(x) for x in pts],
        "n_points": s.n,
        "schedule_rate": s.schedule.rate,
    }
    for key in ("inside_fraction", "edge_band", "energy_distance", "corner_share"):
        rec[key] = [m[key] for m in learned]
        rec["oracle_" + key] = [m[key] for m in orc]
    return StepsSweep({"steps": rec}, pts)


@dataclass
class SamplerStudy(Step):
    study: dict


def sampler_study(st, s: Setup, trained: Trained, device) -> SamplerStudy:
    """Quality per cost: for each sampler of :data:`~genmod.diffusion.samplers.STUDY_SPECS`
    and NFE budget, the measured NFE, energy distance to one fresh truth sample, inside
    fraction and edge band (the same z for every run); and how far each sampler gets."""
    n = s.n
    z = SP.draw_noise(n, s.streams.seed_of("study_noise"))
    truth = M.square_truth(n, s.streams.generator("study_truth"))
    out = {}
    for name, spec in SP.STUDY_SPECS.items():
        keys = ("nfe", "energy_distance", "inside_fraction", "edge_band")
        rec = {"label": spec.label, **{k: [] for k in keys}}
        done = set()
        for budget in st.study_nfe:
            steps = spec.steps_for_nfe(budget)
            if steps in done:
                continue
            done.add(steps)
            x, nfe = SP.run(trained.model, spec, z, steps, s.schedule, device=device)
            rec["nfe"].append(nfe)
            rec["energy_distance"].append(M.energy_distance(x, truth))
            rec["inside_fraction"].append(M.inside_fraction(x))
            rec["edge_band"].append(M.edge_band(x))
        out[name] = rec
    records = {"samplers": out, "samplers_summary": study_reach(out, s.floor)}
    return SamplerStudy(records, out)


def min_nfe_within(study_rec: dict, target: float) -> int | None:
    """Smallest measured NFE whose energy distance is ≤ target (None if never)."""
    ok = [n for n, d in zip(study_rec["nfe"], study_rec["energy_distance"]) if d <= target]
    return min(ok) if ok else None


def study_reach(study: dict, floor: dict) -> dict:
    """Per sampler: the smallest NFE whose energy distance is within the noise floor's spread
    (p95 − median) of the reference (Euler in t at its largest NFE), and its best value at
    ≤ 20 NFE."""
    reference = study["ddim"]["energy_distance"][-1]
    tol = reference + floor["p95"] - floor["median"]
    out = {"reference": reference, "tolerance": tol, "reference_nfe": study["ddim"]["nfe"][-1]}
    for name, rec in study.items():
        low = [d for nf, d in zip(rec["nfe"], rec["energy_distance"]) if nf <= 20]
        out[name] = {
            "label": rec["label"],
            "min_nfe_within_floor": min_nfe_within(rec, tol),
            "best_energy_distance_at_most_20_nfe": min(low) if low else None,
        }
    return out


# ---------------------------------------------------------------- U5
def ablation(
    model, oracle, z, T, improved_steps, schedule, evaluate, device="cpu", exercise_points=None
) -> dict:
    """U5: each ingredient of the improved sampler on its own, learned and oracle.

    Only two Euler trajectories per denoiser are integrated (N(0, I) and matched prior); the
    "final x̂₀" rows apply one more evaluation x̂₀ = x − σ(0)·ε̂(x, 0) to their end points.
    ``exercise_points`` = (learned, oracle) end points of the exercise's sampler from the same
    z, if already computed. ``evaluate`` should compare every row with the same truth sample."""
    ends = {}
    for prior in ("standard", "matched"):
        spec = SP.SamplerSpec("ddim", "uniform", prior, False)
        if prior == "standard" and exercise_points is not None:
            ends[prior] = tuple(exercise_points)
        else:
            ends[prior] = tuple(
                SP.run(m, spec, z, T, schedule, device=device)[0] for m in (model, oracle)
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
                S.denoised(m, q.to(device), 0.0, schedule).cpu()
                for m, q in zip((model, oracle), pts)
            )

    add("exercise", SP.EXERCISE, T, ends["standard"])
    add("matched_prior", SP.SamplerSpec("ddim", "uniform", "matched", False), T, ends["matched"])
    add(
        "final_denoise",
        SP.SamplerSpec("ddim", "uniform", "standard", True),
        T,
        final(ends["standard"]),
    )
    add(
        "matched_prior_final_denoise",
        SP.SamplerSpec("ddim", "uniform", "matched", True),
        T,
        final(ends["matched"]),
    )
    imp = tuple(
        SP.run(m, SP.IMPROVED, z, improved_steps, schedule, device=device)[0]
        for m in (model, oracle)
    )
    add("improved", SP.IMPROVED, improved_steps, imp)
    return out


@dataclass
class Improved(Step):
    ablation: dict
    points: torch.Tensor
    grids: dict


def improved(p: dict, st, s: Setup, trained: Trained, nine: NineSeeds, device) -> Improved:
    """U5: the ablation of the improved sampler (same noise and truth sample for every row),
    the improved sampler over the nine seeds of U3, and both σ(t) schedules."""
    evaluate = s.evaluator("evaluator_u5")
    model = trained.model
    abl = ablation(
        model,
        s.oracle,
        nine.z9[0],
        p["T"],
        st.improved_steps,
        s.schedule,
        evaluate.paired(),
        device=device,
        exercise_points=(nine.x9[0], nine.x_oracle),
    )
    _, x9_imp = SP.sample_seeds(
        model, nine.seeds, s.n, st.improved_steps, spec=SP.IMPROVED, device=device
    )
    imp_seeds = [evaluate(x) for x in x9_imp]
    imp = abl["improved"]["learned"]
    grids = {
        kind: SP.sigma_table(s.schedule, SP.time_grid(st.schedule_plot_steps, kind, s.schedule))
        for kind in ("uniform", "karras")
    }
    rec = {
        "points": rounded(abl["improved"]["points"]),
        "description": SP.IMPROVED.label + f"; {st.improved_steps} Heun steps",
        "nfe": abl["improved"]["nfe"],
        "n_points": s.n,
        **{k: imp[k] for k in ("inside_fraction", "edge_band", "energy_distance", "ks")},
        "corner_share": imp["corner_share"],
        "oracle": abl["improved"]["oracle"],
        "seeds": {
            "inside_fraction": [m["inside_fraction"] for m in imp_seeds],
            "edge_band": [m["edge_band"] for m in imp_seeds],
            "energy_distance": [m["energy_distance"] for m in imp_seeds],
            "ks_pvalues": [[m["ks"]["x"]["pvalue"], m["ks"]["y"]["pvalue"]] for m in imp_seeds],
            "corner_share": [m["corner_share"] for m in imp_seeds],
        },
    }
    schedules = {
        "original": {**s.schedule.to_json(), "grid": "uniform t, dt = -1/T", **grids["uniform"]},
        "modified": {
            **s.schedule.to_json(),
            "grid": "Karras rho-spaced sigma, rho = 7",
            **grids["karras"],
        },
    }
    records = {
        "improved": rec,
        "ablation": {k: {kk: v for kk, v in r.items() if kk != "points"} for k, r in abl.items()},
        "schedules": schedules,
    }
    return Improved(records, abl, abl["improved"]["points"], grids)


# ---------------------------------------------------------------- likelihood
def interior_grid(n: int = 7, margin: float = 0.2) -> torch.Tensor:
    """n×n grid of points at least ``margin`` from the square's edges, (n², 2)."""
    u = torch.linspace(-1 + margin, 1 - margin, n)
    xx, yy = torch.meshgrid(u, u, indexing="ij")
    return torch.stack([xx.ravel(), yy.ravel()], 1)


def _solver(result) -> dict:
    """How the density was integrated (the solver's own record)."""
    return dict(result.solver)


def _summary(lp: np.ndarray, result, density: str) -> dict:
    return {
        "mean": float(lp.mean()),
        "min": float(lp.min()),
        "max": float(lp.max()),
        "stderr": float(lp.std(ddof=1) / math.sqrt(len(lp))),
        "nfe": int(result.nfe),
        "values": lp.tolist(),
        "density": density,
        "solver": _solver(result),
    }


VARIANT_ORDER = (
    "learned_matched",
    "oracle_matched",
    "learned_standard",
    "oracle_standard",
    "learned_matched_denoised",
    "oracle_matched_denoised",
)


def likelihood_check(
    model,
    oracle,
    schedule: Schedule,
    n_grid: int = 7,
    device="cpu",
    eq9_T: int | None = None,
    eq9_draws: int = 4096,
    eq9_seed: int = 0,
    tol: float | None = None,
) -> dict:
    """Log density of the probability-flow ODE's output at t = 0 (the continuous-time limit of
    the deterministic sampler, not its T-step Euler discretisation) at interior points, for
    the learned network and the oracle, each with the matched prior and with N(0, I); where
    the science provides it, also the density of the sampler that returns x̂₀ (matched prior).
    With ``eq9_T``, also the exercise's Eq. 9 value −L_T (learned network) at the same points
    and the two terms it leaves out of the variational bound (N(0, I) prior). ``tol``: the
    adaptive solver's rtol = atol (None: the solver's default)."""
    from genmod.diffusion import likelihood as L

    pts = interior_grid(n_grid).to(device)
    mean, std = SP.prior_params(SP.IMPROVED, schedule)
    # One integration per denoiser (and per end step): the prior enters only through log π(z).
    variants = {}
    for who, m in (("learned", model), ("oracle", oracle)):
        r, d = L.exact_log_prob_denoised(
            m, pts, schedule, prior_mean=mean, prior_std=std, with_plain=True, **_tol(tol)
        )
        variants[f"{who}_matched"] = (r, ODE_DENSITY)
        variants[f"{who}_standard"] = (L.with_prior(r), ODE_DENSITY)
        variants[f"{who}_matched_denoised"] = (d, DENOISED_DENSITY)
    variants = {k: variants[k] for k in VARIANT_ORDER}
    out: dict = {
        "truth": -math.log(4.0),
        "n_points": int(pts.shape[0]),
        "margin": 0.2,
    }
    lt = None
    if eq9_T:
        g = torch.Generator().manual_seed(eq9_seed)
        b = L.eq9_bound(model, pts, schedule, T=eq9_T, n_draws=eq9_draws, generator=g)
        lt = b.log_prob_bound.double().cpu()
        terms = L.vlb_terms(pts.cpu(), schedule)  # the exercise's N(0, I) prior
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
        se_mc = b.stderr.double().cpu()
    for name, (r, density) in variants.items():
        lp = r.log_prob.double().cpu().numpy()
        out[name] = _summary(lp, r, density)
    if lt is not None:
        # the full bound minus the ODE density with the same network and prior, point by point
        d = (full - torch.as_tensor(out["learned_standard"]["values"], dtype=torch.float64)).numpy()
        k = len(d)
        se = math.sqrt(d.var(ddof=1) / k + float((se_mc**2).mean()) / k) if k > 1 else math.nan
        out["eq9"]["full_bound_minus_ode"] = {"mean": float(d.mean()), "stderr": se}
    return out


def _tol(tol: float | None) -> dict:
    return {} if tol is None else {"rtol": tol, "atol": tol}


def likelihood_map(
    model,
    schedule: Schedule,
    n: int = 31,
    lim: float = 1.5,
    device="cpu",
    tol: float | None = None,
):
    """Log density of the probability-flow ODE's output at t = 0 (matched prior) on an n×n
    grid over [−lim, lim]²: (grid axis (n,), log p (n, n) indexed [y, x], solver record)."""
    from genmod.diffusion.likelihood import exact_log_prob

    u = torch.linspace(-lim, lim, n)
    yy, xx = torch.meshgrid(u, u, indexing="ij")
    pts = torch.stack([xx.ravel(), yy.ravel()], 1).to(device)
    mean, std = SP.prior_params(SP.IMPROVED, schedule)
    r = exact_log_prob(model, pts, schedule, prior_mean=mean, prior_std=std, **_tol(tol))
    return u, r.log_prob.reshape(n, n).cpu(), _solver(r)


@dataclass
class Likelihood(Step):
    axis: torch.Tensor
    log_prob: torch.Tensor
    points: torch.Tensor


def likelihood(p: dict, st, s: Setup, trained: Trained, device) -> Likelihood:
    """The density check at interior points, the Eq. 9 comparison and the heat map."""
    lk = likelihood_check(
        trained.model,
        s.oracle,
        s.schedule,
        n_grid=st.lik_grid,
        device=device,
        eq9_T=p["T"],
        eq9_draws=st.eq9_draws,
        eq9_seed=s.streams.seed_of("eq9"),
        tol=st.lik_tol,
    )
    axis, logp, solver = likelihood_map(
        trained.model, s.schedule, n=st.lik_map, device=device, tol=st.lik_map_tol
    )
    rec = {
        "interior_mean_exact": lk["learned_matched"]["mean"],
        "truth": lk["truth"],
        "distribution": ODE_DENSITY,
        "solver": lk["learned_matched"]["solver"],
        "variants": lk,
        "map": {"n": st.lik_map, "lim": 1.5, "density": ODE_DENSITY, "solver": solver},
    }
    return Likelihood({"likelihood": rec}, axis, logp, interior_grid(st.lik_grid))


# ---------------------------------------------------------------- U6
@dataclass
class Determinism(Step):
    runs_ddim: torch.Tensor
    runs_stochastic: torch.Tensor


def determinism(p: dict, st, s: Setup, trained: Trained, device) -> Determinism:
    """Ten DDIM runs and ten stochastic runs from the same noise."""
    z = SP.draw_noise(st.det_points, s.streams.seed_of("determinism"))
    model = trained.model
    ddim = SP.repeat_runs(model, z, p["T"], st.n_runs, lam=0.0, schedule=s.schedule, device=device)
    sto = SP.repeat_runs(
        model,
        z,
        p["T"],
        st.n_runs,
        lam=p["lam"],
        seed=s.streams.seed_of("stochastic"),
        schedule=s.schedule,
        device=device,
    )
    det = {
        "max_abs_diff": M.max_abs_diff(ddim),
        "runs": st.n_runs,
        "n_points": st.det_points,
        "T": p["T"],
    }
    stochastic = {
        "lam": p["lam"],
        "max_abs_diff": M.max_abs_diff(sto),
        "runs": st.n_runs,
        "inside_fraction": [M.inside_fraction(r) for r in sto],
        "mean_spread": float(sto.std(0).norm(dim=-1).mean()),
        "n_points": st.det_points,
        # the largest |coordinate| of any output (inf if one is not finite): a blown-up sampler
        "max_abs_value": float(torch.nan_to_num(sto.abs(), nan=math.inf).max()),
    }
    return Determinism({"determinism": det, "stochastic": stochastic}, ddim, sto)


@dataclass
class Trajectories(Step):
    ddim: tuple[torch.Tensor, torch.Tensor]
    stochastic: tuple[torch.Tensor, torch.Tensor]


def trajectories(p: dict, st, s: Setup, trained: Trained, device) -> Trajectories:
    """The paths of a few points started at ``traj_scale``·z, z ~ N(0, I), under DDIM and
    the stochastic sampler."""
    z4 = SP.draw_noise(st.traj_points, s.streams.seed_of("trajectories")) * st.traj_scale
    model = trained.model
    tt_d, xs_d = SP.trajectories(model, z4, p["T"], schedule=s.schedule, device=device)
    tt_s, xs_s = SP.trajectories(
        model,
        z4,
        p["T"],
        lam=p["lam"],
        seed=s.streams.seed_of("trajectories_stochastic"),
        schedule=s.schedule,
        device=device,
    )

    def rec(tt, xs):
        return {
            "t": tt.tolist(),
            "points": rounded(xs[:: max(1, len(tt) // 200)]),
            "path_ratio": M.path_ratio(xs),
            "path_ratios": M.path_ratios(xs),
            "end_inside": int(M.inside_fraction(xs[-1]) * xs.shape[1] + 0.5),
            "identical_to_ddim": bool(torch.equal(xs, xs_d)),
        }

    longer = np.subtract(M.path_ratios(xs_s), M.path_ratios(xs_d))  # paired, path by path
    k = len(longer)
    record = {
        "ddim": rec(tt_d, xs_d),
        "stochastic": rec(tt_s, xs_s),
        "path_ratio_difference": {
            "mean": float(longer.mean()),
            "stderr": float(longer.std(ddof=1) / math.sqrt(k)) if k > 1 else math.nan,
            "n": k,
        },
        "n_points": st.traj_points,
        "start_scale": st.traj_scale,
        "lam": p["lam"],
    }
    return Trajectories({"trajectories": record}, (tt_d, xs_d), (tt_s, xs_s))
