"""Section 02's computations, in the notebook's order.

Each step is a function of explicit inputs (the parameters ``p``, the settings ``st``, the
device and the outcomes of earlier steps) returning a :class:`~genmod.sections.common.Step`:
its results.json records and the tensors later steps and the figures (:mod:`.figures`) use.
Random numbers come from the run's named streams (:data:`STREAMS`, seeded by ``1000 · seed``
plus the stream's offset), so every step draws the same numbers whatever ran before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genmod.diffusion import bonus as B
from genmod.diffusion import conditional as C
from genmod.diffusion import likelihood as L
from genmod.diffusion.data import Partition
from genmod.diffusion.models import DenoiserConfig
from genmod.diffusion.sampling import denoised
from genmod.diffusion.schedules import ExpSchedule, Schedule
from genmod.diffusion.train import TrainConfig, train_denoiser
from genmod.runtime import Streams
from genmod.sections.common import Step
from genmod.sections.diffusion_conditional import studies as S
from genmod.sections.diffusion_conditional.config import CLASS_NAMES, FIVE_REGIONS, TARGETS

CLASS_DIM = 16  # size of the class embedding
EDGE_BAND = 0.05  # the band of the edge share in spread_stats (C.spread_stats's default)
OTHER_TARGETS = ([-3.0, 2.5], [4.0, 5.5])  # the bonus's second target: the first that differs

#: The section's random streams: name → offset from 1000 · seed.
STREAMS = {
    "data": 0,
    "conditioning": 1,
    "trajectories": 2,
    "samples": 3,
    "matched_prior": 4,
    "spread": 5,
    "probes": 6,
    "likelihood": 7,
    "bonus_best_of": 8,
    "bonus_noise": 9,
    "compare": 10,
    "steering": 11,
    "prior_mismatch": 12,
    "posterior_mean": 13,
    "memorisation": 14,
}


def _js(d: dict) -> dict:
    return {str(k): v for k, v in d.items()}


# --------------------------------------------------------------------------- data, training
@dataclass
class Setup(Step):
    streams: Streams
    partition: Partition
    names: tuple
    schedule: Schedule
    x0: torch.Tensor
    lab0: torch.Tensor

    @property
    def K(self) -> int:
        return self.partition.n_classes


def setup(p: dict, partition: Partition = FIVE_REGIONS, names: tuple = CLASS_NAMES) -> Setup:
    """The run's streams, the classes, the schedule and the labelled training set."""
    streams = Streams(p["seed"], STREAMS, scale=1000)
    schedule = ExpSchedule()
    x0, lab0 = partition.sample(p["n_points"], streams.generator("data"))
    return Setup({"schedule": schedule.to_json()}, streams, partition, names, schedule, x0, lab0)


@dataclass
class Trained(Step):
    model: torch.nn.Module
    model_config: DenoiserConfig
    config: TrainConfig
    history: list
    oracle: C.ClassOracle


def train(p: dict, st, s: Setup, device) -> Trained:
    """The conditional denoiser (trained or from the cache) and the class oracle."""
    model_cfg = DenoiserConfig(
        n_classes=s.K,
        hidden=st.hidden,
        n_layers=st.n_layers,
        x_freqs=st.x_freqs,
        x_gate=st.x_gate,
        output="precond",
        class_dim=CLASS_DIM,
        dropout=st.dropout,
    )
    train_cfg = TrainConfig(
        epochs=p["epochs"],
        lr=st.lr,
        seed=p["seed"],
        noise_draws=st.noise_draws,
        ema_decay=st.ema_decay,
        warmup=st.warmup,
        batch_size=st.batch_size,
        t_power=st.t_power,
        fused_adam=st.fused_adam,
        weight_decay=st.weight_decay,
    )
    model, history, from_cache = train_denoiser(
        model_cfg,
        train_cfg,
        s.x0,
        s.lab0,
        s.schedule,
        device=device,
        cache_dir=p["cache_dir"],
        retrain=p["retrain"],
        name="conditional",
    )
    record = {
        "loss_history": history,
        "final_loss": float(np.mean(history[-50:])),
        "from_cache": from_cache,
        "seconds": getattr(model, "train_seconds", None),
        "adam_steps": train_cfg.steps(len(s.x0)),
    }
    oracle = C.ClassOracle(s.partition, s.schedule)
    return Trained({"train": record}, model, model_cfg, train_cfg, history, oracle)


def classes(s: Setup) -> Step:
    """C1: the classes, their training counts and measured geometry."""
    part, K = s.partition, s.K
    counts = np.bincount(s.lab0.numpy(), minlength=K)
    s0 = s.schedule.sigma_min
    geo = C.class_geometry(part, {"0.05": EDGE_BAND, "3σ(0)": 3 * s0})
    record = {
        "n": K,
        "regions": part.to_json(),
        "names": list(s.names),
        "areas": part.areas().tolist(),
        "train_counts": counts.tolist(),
        "inradius": [2 * C.default_margin(part, c, margin=10.0) for c in range(K)],
        "geometry": _js(geo),
        "edge_bands": {"0.05": EDGE_BAND, "3σ(0)": 3 * s0},
    }
    return Step({"classes": record})


#: Training points drawn in the figures (the first ones: the points are i.i.d., so a uniform
#: subsample); all of them would hide the region edges.
POINTS_SHOWN = 3000


def shown_points(s: Setup) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The training points drawn in a figure (and the notebook's explorer), their labels, and
    how to name them."""
    n = len(s.x0)
    k = min(n, POINTS_SHOWN)
    what = f"{n:,} training points" if k == n else f"{k:,} of the {n:,} training points"
    return s.x0[:k], s.lab0[:k], what


# --------------------------------------------------------------------------- C2
def conditioning(s: Setup, trained: Trained, device) -> Step:
    """C2: how much the class changes ε̂ at fixed (x, t), and the model's size."""
    model, K = trained.model, s.K
    with torch.no_grad():
        xs = torch.randn(2000, 2, generator=s.streams.generator("conditioning")).to(device)
        diffs = {}
        for tv in (0.1, 0.5, 0.9):
            tt = torch.full((2000,), tv, device=device)
            outs = torch.stack(
                [model(xs, tt, torch.full((2000,), c, device=device)) for c in range(K)]
            )
            diffs[tv] = float((outs - outs.mean(0)).norm(dim=-1).mean())
    cfg = trained.model_config
    record = {
        "class_effect": diffs,
        "n_params": sum(q.numel() for q in model.parameters()),
        "class_dim": cfg.class_dim,
        "hidden": cfg.hidden,
        "n_layers": cfg.n_layers,
    }
    return Step({"conditioning": record})


# --------------------------------------------------------------------------- C3
@dataclass
class Trajectories(Step):
    paths: np.ndarray  # (T + 1, K, 2)
    labels: torch.Tensor


def trajectories(p: dict, st, s: Setup, trained: Trained, device) -> Trajectories:
    """C3: one DDIM run per class (the drawn paths), and the same starts run under every
    class (:func:`~genmod.diffusion.conditional.class_steering`)."""
    part, K, T = s.partition, s.K, p["T"]
    lab_one = torch.arange(K)
    paths = []

    def _cb(info):
        paths.append(info["x_next"].cpu().numpy())

    z_one, x_one = C.sample_classes(
        trained.model, lab_one, s.schedule, T, s.streams.generator("trajectories"),
        device=device, callback=_cb,
    )  # fmt: skip
    traj = np.concatenate([z_one.numpy()[None], np.stack(paths)])  # (T+1, K, 2)
    class_means = np.stack([part.mean(c) for c in range(K)])
    i_half = T // 2
    to_mean = {
        "t=1": float(np.linalg.norm(traj[0] - class_means, axis=1).mean()),
        "t=0.5": float(np.linalg.norm(traj[i_half] - class_means, axis=1).mean()),
        "t=0": float(np.linalg.norm(traj[-1] - class_means, axis=1).mean()),
    }
    z_s = torch.randn(st.steer_starts, 2, generator=s.streams.generator("steering"))
    steer = C.class_steering(trained.model, z_s, s.schedule, T, part, device)
    record = {
        "final_points": x_one.tolist(),
        "in_region": part.contains(x_one, lab_one).tolist(),
        "z": z_one.tolist(),
        "paths": traj[:: max(1, T // 100)].transpose(1, 0, 2).tolist(),
        "distance_to_class_mean": to_mean,
        "steering": steer,
    }
    return Trajectories({"trajectories": record}, traj, lab_one)


# --------------------------------------------------------------------------- C4
def _t_stops(T: int) -> list[float]:
    return [0.0] + [s for s in (0.2, 0.3, 0.4) if abs(s * T - round(s * T)) < 1e-9]


@dataclass
class Samples(Step):
    labels: torch.Tensor
    learned: torch.Tensor  # the exercise's sampler
    oracle: torch.Tensor  # the same sampler and z, the oracle
    improved: torch.Tensor
    snaps: dict  # t_stop → x̂_0 along the matched-prior run (learned)
    variants: dict  # who → prior × end point → points


def samples(p: dict, st, s: Setup, trained: Trained, device) -> Samples:
    """C4: samples of every class from the learned model and the oracle (same z) with the
    exercise's sampler, and from the improved sampler (moment-matched prior, x̂_0 returned).
    Records ``samples`` and ``improved``."""
    part, sched, T = s.partition, s.schedule, p["T"]
    model, oracle = trained.model, trained.oracle
    labels = C.balanced_labels(s.K, st.samples_per_class)
    g = s.streams.generator
    _, x_learned = C.sample_classes(model, labels, sched, T, g("samples"), device=device)
    # the same z (common random numbers): the difference is the model's, not the noise's
    _, x_oracle = C.sample_classes(oracle, labels, sched, T, g("samples"), device=device)
    z_match = C.initial_noise(labels, g("matched_prior"), "matched", part, sched)
    stops = _t_stops(T)
    snaps, end = C.denoised_along_the_way(model, z_match, labels, sched, T, stops, device, True)
    snaps_o, end_o = C.denoised_along_the_way(
        oracle, z_match, labels, sched, T, [0.0], device, True
    )
    improved_t = st.improved_t_stop if st.improved_t_stop in snaps else 0.0
    x_improved = snaps[improved_t]
    with torch.no_grad():
        lab_d = labels.to(device)
        hat = denoised(model, x_learned.to(device), 0.0, sched, lab_d).cpu()
        hat_o = denoised(oracle, x_oracle.to(device), 0.0, sched, lab_d).cpu()
    variants = {
        "learned": {"standard_end": x_learned, "standard_denoised": hat,
                    "matched_end": end, "matched_denoised": snaps[0.0]},
        "oracle": {"standard_end": x_oracle, "standard_denoised": hat_o,
                   "matched_end": end_o, "matched_denoised": snaps_o[0.0]},
    }  # fmt: skip
    acc = lambda x: _js(C.class_accuracy(x, labels, part))  # noqa: E731
    sig = float(sched.sigma(torch.tensor(improved_t)))
    desc = (
        f"DDIM (T = {T}) from each class's diagonal moment-matched Gaussian prior "
        "N(mean_c, diag(σ(1)² + var_c)), returning the denoised estimate x̂_0 at "
        f"t = {improved_t:g} (σ = {sig:.3f})"
    )
    records = {
        "samples": {
            "points": x_learned.tolist(),
            "labels": labels.tolist(),
            "T": T,
            "class_accuracy": acc(x_learned),
            "oracle_class_accuracy": acc(x_oracle),
        },
        "improved": {
            "points": x_improved.tolist(),
            "labels": labels.tolist(),
            "class_accuracy": acc(x_improved),
            "oracle_class_accuracy": acc(snaps_o[0.0]),
            "description": desc,
            "t_stop": improved_t,
        },
    }
    return Samples(records, labels, x_learned, x_oracle, x_improved, snaps, variants)


# --------------------------------------------------------------------------- C5
def analysis(st, s: Setup, smp: Samples) -> Step:
    """C5: per-class spread against the region, the t_stop sweep, where the misses lie, the
    2 × 2 comparison (prior × end point or x̂_0) for the learned model and the oracle, how
    far the t = 1 marginal is from the moment-matched prior, and where the exact posterior
    mean of noisy true points lies."""
    part, labels, g = s.partition, smp.labels, s.streams.generator
    stats = {
        k: _js(C.spread_stats(x, labels, part, g("spread")))
        for k, x in (("learned", smp.learned), ("oracle", smp.oracle), ("improved", smp.improved))
    }
    sweep = {}
    for t_stop, x in smp.snaps.items():
        spread = C.spread_stats(x, labels, part, g("spread"))
        sweep[str(t_stop)] = {
            "class_accuracy": _js(C.class_accuracy(x, labels, part)),
            "edge_share": _js({c: v["edge_share"] for c, v in spread.items()}),
        }
    bd = C.boundary_distance(smp.learned, part, labels)
    lab = labels.numpy()
    fail_med = {
        c: float(np.median(-bd[(lab == c) & (bd < 0)])) if ((lab == c) & (bd < 0)).any() else 0.0
        for c in range(s.K)
    }
    variants = {
        who: {k: _js(C.class_accuracy(x, labels, part)) for k, x in v.items()}
        for who, v in smp.variants.items()
    }
    t_pm = [t for t in sorted(smp.snaps) if t > 0] or [0.2]
    posterior = C.posterior_mean_inside(
        part, s.schedule, t_pm, st.samples_per_class, g("posterior_mean")
    )
    record = {
        "spread_learned": stats["learned"],
        "spread_oracle": stats["oracle"],
        "spread_improved": stats["improved"],
        "t_stop_sweep": sweep,
        "failure_distance_median": _js(fail_med),
        "n_per_class": st.samples_per_class,
        "prior_and_denoise": variants,
        "prior_mismatch": _js(
            C.prior_mismatch(part, s.schedule, st.prior_draws, g("prior_mismatch"))
        ),
        "posterior_mean_inside": _js({t: _js(v) for t, v in posterior.items()}),
    }
    return Step({"analysis": record})


def memorisation(s: Setup, smp: Samples) -> Step:
    """C5: per class, the median distance from the exercise's sampler's samples to the
    nearest training point of their class over the same median for as many fresh true points
    (:func:`~genmod.diffusion.conditional.memorisation`), for the learned model and the
    oracle (the same fresh points for both)."""
    g = s.streams.generator
    record = {
        who: _js(C.memorisation(x, smp.labels, s.x0, s.lab0, s.partition, g("memorisation")))
        for who, x in (("learned", smp.learned), ("oracle", smp.oracle))
    }
    record["n_points"] = len(s.x0)
    return Step({"memorisation": record})


def _spread(values) -> dict:
    v = [float(x) for x in values]
    return {"mean": float(np.mean(v)), "min": min(v), "max": max(v)}


def meets_targets(run: dict) -> bool:
    """Whether one seed's figures (a seeds-script row) meet all four :data:`TARGETS`."""
    return (
        run["min_improved"] >= TARGETS["min_improved"]
        and run["max_gap"] <= TARGETS["max_gap"]
        and run["max_lik_err"] <= TARGETS["max_lik_err"]
        and run["min_memorisation"] >= TARGETS["min_memorisation"]
    )


def data_size_study(
    p: dict, st, trained: Trained, study: dict | None = None, path=S.STUDY_PATH
) -> Step:
    """C5: the stored data-size study (:mod:`.studies`; ``study``: its content, else the file
    at ``path``), summarised per training-set size over its seeds, and whether its setting is
    this run's: the same settings (the CPU threads aside), T and number of Adam steps
    (``matches``; the names of what differs in ``differences``). Without a stored study the
    record says so (``stored``: false, with the file and the command that makes it)."""
    if study is None:
        if not Path(path).is_file():
            return Step({"data_size_study": {"stored": False, "source": S.STUDY_SOURCE,
                                             "command": S.STUDY_COMMAND}})  # fmt: skip
        study = S.load(path)
    ours = {k: v for k, v in st.to_json().items() if k not in S.IGNORED_SETTINGS}
    theirs = study["settings"]
    differences = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    if p["T"] != study["T"]:
        differences.append("T")
    if trained.config.steps(int(p["n_points"])) != study["adam_steps"]:
        differences.append("Adam steps")
    rows = []
    for n in study["sizes"]:
        runs = [r for r in study["runs"] if r["n_points"] == n]
        rows.append(
            {
                "n_points": n,
                "seeds": [r["seed"] for r in runs],
                **{
                    key: _spread(r[key] for r in runs)
                    for key in ("max_gap", "min_improved", "max_lik_err", "min_memorisation")
                },
                "min_memorisation_oracle": _spread(min(r["memorisation_oracle"]) for r in runs),
                "seeds_meeting_targets": sum(meets_targets(r) for r in runs),
            }
        )
    keep = ("n_points", "seed", "max_gap", "min_improved", "max_lik_err", "min_memorisation")
    record = {
        "stored": True,
        "source": S.STUDY_SOURCE,
        **{k: study[k] for k in ("command", "commit", "uncommitted_changes", "date", "device")},
        **{k: study[k] for k in ("sizes", "seeds", "adam_steps", "T")},
        "targets": dict(TARGETS),
        "matches": not differences,
        "differences": differences,
        "rows": rows,
        "runs": [{k: r[k] for k in keep} for r in study["runs"]],
    }
    return Step({"data_size_study": record})


# --------------------------------------------------------------------------- C6
def probes(p: dict, st, s: Setup, trained: Trained, device) -> Step:
    """C6: Eq. 9, the PF-ODE density and the truth at the probe points, one record each."""
    probe_points = p["probe_points"]
    est = C.probe_estimates(
        trained.model, probe_points, s.partition, s.schedule, p["T"], st.eq9_draws, st.ode_steps,
        s.streams.generator("probes"), device,
    )  # fmt: skip
    weight = L.eq9_weight(s.schedule, p["T"])  # −L_T ≈ −weight·d² far off, perfect denoiser
    out = []
    for i, (px, py, pc) in enumerate(probe_points):
        truth = float(est.truth[i])
        out.append(
            {
                "x": float(px),
                "y": float(py),
                "class": int(pc),
                "in_distribution": bool(np.isfinite(truth)),
                "in_square": bool(est.in_square[i]),
                "log_prob_bound": float(est.log_prob_bound[i]),
                "stderr": float(est.stderr[i]),
                "exact_log_prob": float(est.exact_log_prob[i]),
                "exact_log_prob_standard_prior": float(est.exact_log_prob_standard_prior[i]),
                "truth": truth if np.isfinite(truth) else None,
                "reconstruction": float(est.reconstruction[i]),
                "prior_kl": float(est.prior_kl[i]),
                "distance_to_region": float(est.distance_to_region[i]),
                "far_bound_perfect": -weight * float(est.distance_to_region[i]) ** 2,
                "solver": est.solver,
            }
        )
    s0, s1 = s.schedule.sigma_min, s.schedule.sigma_max
    eq9 = {"T": p["T"], "weight": weight, "weight_limit": (s0**-2 - s1**-2) / 2}
    return Step({"probes": out, "eq9": eq9})


def _grid(n: int) -> tuple[np.ndarray, torch.Tensor]:
    lin = np.linspace(-2, 2, n)
    gx, gy = np.meshgrid(lin, lin, indexing="ij")
    return lin, torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)


@dataclass
class Likelihood(Step):
    grids: list  # per class, log p on the grid (n, n)
    prior_means: torch.Tensor
    prior_stds: torch.Tensor


def likelihood(st, s: Setup, trained: Trained, device) -> Likelihood:
    """C6: the PF-ODE density over interior points of each class (learned: moment-matched
    and N(0, I) priors, and the x̂_0-returning sampler's density; oracle: moment-matched
    prior) and on a grid over [-2, 2]² per class."""
    part, sched, K = s.partition, s.schedule, s.K
    model, oracle = trained.model, trained.oracle
    n_in = st.interior_per_class
    tol = {"rtol": st.lik_tol, "atol": st.lik_tol}
    g = s.streams.generator
    variants = C.interior_likelihood_variants(
        model, part, sched, n_in, g("likelihood"), device, **tol
    )
    lik, lik_std, lik_den = variants["matched"], variants["standard"], variants["denoised"]
    n_o = max(10, n_in // 5)
    lik_o = C.interior_likelihood_variants(
        oracle, part, sched, n_o, g("likelihood"), device, **tol
    )["matched"]
    lin, grid_pts = _grid(st.grid)
    means, stds = C.class_prior(part, sched)
    grids = []
    for c in range(K):
        r = L.exact_log_prob(
            model, grid_pts.to(device), sched, c=c, prior_mean=means[c], prior_std=stds[c],
            rtol=st.lik_map_tol, atol=st.lik_map_tol,
        )  # fmt: skip
        grids.append(r.log_prob.numpy().reshape(st.grid, st.grid))
        grid_solver = dict(r.solver)
    gp = grid_pts.numpy()
    far = np.abs(gp).max(1) > 1.5
    rec = {
        "interior_mean_exact": {str(c): v["mean"] for c, v in lik.items()},
        "interior_mean_exact_standard_prior": {str(c): v["mean"] for c, v in lik_std.items()},
        "interior_mean_exact_oracle": {str(c): v["mean"] for c, v in lik_o.items()},
        "truth": {str(c): v["truth"] for c, v in lik.items()},
        "interior": _js(lik),
        "interior_standard_prior": _js(lik_std),
        "interior_oracle": _js(lik_o),
        "grid": {"x": lin.tolist(), "log_prob": [g.tolist() for g in grids]},
        "grid_median_inside": {
            str(c): float(np.median(grids[c].ravel()[part.in_class(gp, c)])) for c in range(K)
        },
        "grid_median_far_outside": {
            str(c): float(np.median(grids[c].ravel()[far])) for c in range(K)
        },
        "solver": lik[0].get("solver", {}),
        "grid_solver": grid_solver,
    }
    if lik_den:
        rec["interior_denoised"] = _js(lik_den)
        rec["interior_mean_exact_denoised"] = {str(c): v["mean"] for c, v in lik_den.items()}
        rec["solver_denoised"] = lik_den[0].get("solver", {})
    return Likelihood({"likelihood": rec}, grids, means, stds)


@dataclass
class Compare(Step):
    grids: dict  # estimate → values on the n × n grid (flat)
    n: int
    c: int


def likelihood_compare(p: dict, st, s: Setup, trained: Trained, lik: Likelihood, device) -> Compare:
    """C6: Eq. 9, the full variational bound, the PF-ODE density and the truth on one grid,
    for the first probe's class."""
    part, sched = s.partition, s.schedule
    c_show = p["probe_points"][0][2]
    n_cmp = max(11, st.grid // 2 * 2 - 9)
    lin_c, cmp_pts = _grid(n_cmp)
    means, stds = lik.prior_means, lik.prior_stds
    b = L.eq9_bound(
        trained.model, cmp_pts.to(device), sched, T=p["T"], c=c_show, n_draws=st.eq9_draws // 16,
        generator=s.streams.generator("compare"),
    )  # fmt: skip
    terms = L.vlb_terms(cmp_pts, sched, means[c_show], stds[c_show])
    ex = L.exact_log_prob(
        trained.model, cmp_pts.to(device), sched, c=c_show, prior_mean=means[c_show],
        prior_std=stds[c_show], rtol=st.lik_map_tol, atol=st.lik_map_tol,
    )  # fmt: skip
    cmp = {
        "−L_T (Eq. 9)": b.log_prob_bound.numpy(),
        "−L_T + recon − KL": (
            b.log_prob_bound + terms["reconstruction"] - terms["prior_kl"]
        ).numpy(),
        "exact (PF-ODE)": ex.log_prob.double().numpy(),
        "truth": C.true_log_density(part, cmp_pts, np.full(len(cmp_pts), c_show)),
    }
    own = part.in_class(cmp_pts.numpy(), c_show)
    out_sq = np.abs(cmp_pts.numpy()).max(1) > 1.5
    summary = {
        k: {
            "median_inside": float(np.median(v[own])),
            "median_outside_square": float(np.median(v[out_sq])),
        }
        for k, v in cmp.items()
    }
    vals = list(cmp.values())
    record = {
        "class": c_show,
        "solver": dict(ex.solver),
        "x": lin_c.tolist(),
        "summary": summary,
        **{k: v.tolist() for k, v in zip(("bound", "full_bound", "exact"), vals[:3])},
    }
    return Compare({"likelihood_compare": record}, cmp, n_cmp, c_show)


# --------------------------------------------------------------------------- Bonus
@dataclass
class Bonus(Step):
    attempts: list  # each attempt's full record (trajectory not thinned)


def _other_target(tgt, s: Setup, model, T: int, device) -> dict:
    """The bonus's inversion for a second target (the first of OTHER_TARGETS that differs),
    with its convergence record."""
    other = next(o for o in OTHER_TARGETS if o != tgt)
    c_o = C.nearest_class(s.partition, other)
    inv = B.invert_ddim(model, other, s.schedule, T, c=c_o, device=device)
    keep = ("inversion_converged", "inversion_residual", "inversion_unconverged_steps")
    return {"target": other, "class": c_o, "error": inv.error, "reached": inv.reached(0.01),
            "method": inv.method, "z": inv.z, **{k: inv.extra[k] for k in keep}}  # fmt: skip


def bonus(p: dict, st, s: Setup, trained: Trained, device) -> Bonus:
    """Bonus: four attempts to make the model output ``bonus_target`` (two simple, two
    principled), the same inversion for a second target, and the distances that say how
    far each end point is from the data."""
    part, sched, T, model = s.partition, s.schedule, p["T"], trained.model
    tgt = p["bonus_target"]
    c_b = C.nearest_class(part, tgt)
    g = s.streams.generator
    attempts = [
        B.start_at_target(model, tgt, sched, T, c=c_b, device=device),
        B.best_of_n(model, tgt, sched, T, st.bonus_best_of, g("bonus_best_of"), c=c_b,
                    device=device),
        B.invert_ddim(model, tgt, sched, T, c=c_b, device=device),
        B.optimise_noise(
            model, tgt, sched, st.bonus_steps, lam=1.0, iters=st.bonus_iters, lr=0.1,
            generator=g("bonus_noise"), c=c_b, device=device,
        ),
    ]  # fmt: skip
    other = _other_target(tgt, s, model, T, device)
    att = [a.to_json() for a in attempts]
    full = [dict(a) for a in att]
    best = min((a for a in attempts if a.principled), key=lambda a: a.error)
    dist = lambda q: float(C.distance_to_region([q], part, c_b)[0])  # noqa: E731
    for a in att:
        a["trajectory"] = a["trajectory"][:: max(1, len(a["trajectory"]) // 200)] + [
            a["trajectory"][-1]
        ]
        a.pop("loss_history", None)
        a["distance_to_region"] = dist(a["final"])
        a["start_distance_to_region"] = dist(a["z"])
    own = s.x0[s.lab0 == c_b].numpy()
    d_train = np.linalg.norm(s.x0.numpy() - np.asarray(tgt), axis=1)
    record = {
        "target": tgt,
        "class": c_b,
        "reached": best.reached(0.01),
        "error": best.error,
        "method": best.method,
        "attempts": att,
        "other_target": other,
        "tolerance": 0.01,
        "target_distance_to_region": dist(tgt),
        "target_distance_to_data": min(
            float(C.distance_to_region([tgt], part, c)[0]) for c in range(s.K)
        ),
        "target_in_square": bool(part.label(np.array([tgt]))[0] >= 0),
        "nearest_training_distance": (
            float(np.linalg.norm(own - np.asarray(tgt), axis=1).min()) if len(own) else None
        ),
        "nearest_training_distance_any": float(d_train.min()),
        "typical_z_log_prior": -math.log(2 * math.pi) - 1.0,  # E log N(z; 0, I) in 2D
        "sigma_ratio": sched.sigma_min / sched.sigma_max,
        "sigma_max": sched.sigma_max,
        # far from the data, a perfect denoiser's T Euler steps scale the distance to the data
        # by this factor (the continuous-time σ(0)/σ(1) only as T → ∞)
        "perfect_denoiser_scale": B.perfect_denoiser_scale(sched, T),
    }
    return Bonus({"bonus": record}, full)
