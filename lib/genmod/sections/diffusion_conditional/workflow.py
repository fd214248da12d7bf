"""Section 02's computations: what notebook 02 calls, each returning a plain record.

The notebook makes one :class:`Context` (:func:`setup`) and passes it to every step; a step
keeps the tensors later steps need in ``ctx.state`` and returns the record that goes into
results.json. Random numbers come from one generator per use, ``ctx.gen(k)`` (seeded by the
run's seed and ``k``), so every step draws the same numbers whatever ran before it.

Figures: ``figure_*`` draw the section's figures from ``ctx`` (the science's plots modules
draw the pieces).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from genmod.diffusion import bonus as B
from genmod.diffusion import conditional as C
from genmod.diffusion import likelihood as L
from genmod.diffusion import plots_conditional as PC
from genmod.diffusion.data import Partition
from genmod.diffusion.models import DenoiserConfig
from genmod.diffusion.sampling import denoised
from genmod.diffusion.schedules import ExpSchedule, Schedule
from genmod.diffusion.train import TrainConfig, train_denoiser
from genmod.sections.diffusion_conditional.config import (
    CLASS_NAMES,
    FIVE_REGIONS,
    Settings,
    bonus_name,
)

CLASS_DIM = 16  # size of the class embedding
EDGE_BAND = 0.05  # the band of the edge share in spread_stats (C.spread_stats's default)
OTHER_TARGETS = ([-3.0, 2.5], [4.0, 5.5])  # the bonus's second target: the first that differs


@dataclass
class Context:
    """What the steps of one notebook run share."""

    params: dict
    settings: Settings
    device: torch.device
    partition: Partition = FIVE_REGIONS
    names: tuple = CLASS_NAMES
    schedule: Schedule = field(default_factory=ExpSchedule)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def K(self) -> int:
        return self.partition.n_classes

    @property
    def T(self) -> int:
        return self.params["T"]

    def gen(self, k: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.params["seed"] * 1000 + k)

    def __getattr__(self, name):  # ctx.model, ctx.x0, … : what the steps stored
        state = self.__dict__.get("state", {})
        if name in state:
            return state[name]
        raise AttributeError(name)


def setup(params: dict, settings: Settings, device) -> Context:
    return Context(params=params, settings=settings, device=torch.device(device))


def _js(d: dict) -> dict:
    return {str(k): v for k, v in d.items()}


def _mean(d: dict) -> float:
    return float(np.mean(list(d.values())))


# --------------------------------------------------------------------------- data, training
def train(ctx: Context) -> dict:
    """The labelled training set and the conditional denoiser (trained or from the cache)."""
    S, part = ctx.settings, ctx.partition
    x0, lab0 = part.sample(ctx.params["n_points"], ctx.gen(0))
    model_cfg = DenoiserConfig(
        n_classes=ctx.K,
        hidden=S.hidden,
        n_layers=S.n_layers,
        x_freqs=S.x_freqs,
        x_gate=S.x_gate,
        output="precond",
        class_dim=CLASS_DIM,
    )
    train_cfg = TrainConfig(
        epochs=ctx.params["epochs"],
        lr=S.lr,
        seed=ctx.params["seed"],
        noise_draws=S.noise_draws,
        ema_decay=S.ema_decay,
        warmup=S.warmup,
        batch_size=S.batch_size,
        t_power=S.t_power,
        fused_adam=S.fused_adam,
    )
    model, history, from_cache = train_denoiser(
        model_cfg,
        train_cfg,
        x0,
        lab0,
        ctx.schedule,
        device=ctx.device,
        cache_dir=ctx.params["cache_dir"],
        retrain=ctx.params["retrain"],
        name="conditional",
    )
    ctx.state.update(
        x0=x0, lab0=lab0, model=model, model_cfg=model_cfg, history=history,
        oracle=C.ClassOracle(part, ctx.schedule),
    )  # fmt: skip
    return {
        "loss_history": history,
        "final_loss": float(np.mean(history[-50:])),
        "from_cache": from_cache,
        "seconds": getattr(model, "train_seconds", None),
        "adam_steps": train_cfg.steps(len(x0)),
    }


def classes(ctx: Context) -> dict:
    """C1: the classes, their training counts and measured geometry."""
    part, K = ctx.partition, ctx.K
    counts = np.bincount(ctx.lab0.numpy(), minlength=K)
    s0 = ctx.schedule.sigma_min
    geo = C.class_geometry(part, {"0.05": EDGE_BAND, "3σ(0)": 3 * s0})
    return {
        "n": K,
        "regions": part.to_json(),
        "names": list(ctx.names),
        "areas": part.areas().tolist(),
        "train_counts": counts.tolist(),
        "inradius": [2 * C.default_margin(part, c, margin=10.0) for c in range(K)],
        "geometry": _js(geo),
        "edge_bands": {"0.05": EDGE_BAND, "3σ(0)": 3 * s0},
    }


#: Training points drawn in the figures (the first ones: the points are i.i.d., so a uniform
#: subsample); all of them would hide the region edges.
POINTS_SHOWN = 3000


def shown_points(ctx: Context) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The training points drawn in a figure (and the notebook's explorer), their labels, and
    how to name them."""
    n = len(ctx.x0)
    k = min(n, POINTS_SHOWN)
    what = f"{n:,} training points" if k == n else f"{k:,} of the {n:,} training points"
    return ctx.x0[:k], ctx.lab0[:k], what


def figure_data(ctx: Context):
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    x, lab, what = shown_points(ctx)
    PC.scatter_classes(ax, x, lab, ctx.partition, names=ctx.names, s=4)
    ax.set_title(f"{what}, {ctx.K} classes")
    return fig


# --------------------------------------------------------------------------- C2
def conditioning(ctx: Context) -> dict:
    """C2: how much the class changes ε̂ at fixed (x, t), and the model's size."""
    model, dev, K = ctx.model, ctx.device, ctx.K
    with torch.no_grad():
        xs = torch.randn(2000, 2, generator=ctx.gen(1)).to(dev)
        diffs = {}
        for tv in (0.1, 0.5, 0.9):
            tt = torch.full((2000,), tv, device=dev)
            outs = torch.stack(
                [model(xs, tt, torch.full((2000,), c, device=dev)) for c in range(K)]
            )
            diffs[tv] = float((outs - outs.mean(0)).norm(dim=-1).mean())
    cfg = ctx.model_cfg
    return {
        "class_effect": diffs,
        "n_params": sum(p.numel() for p in model.parameters()),
        "class_dim": cfg.class_dim,
        "hidden": cfg.hidden,
        "n_layers": cfg.n_layers,
    }


def figure_loss(ctx: Context):
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.plot(ctx.history, lw=0.6)
    h = np.asarray(ctx.history)
    if len(h) and h.min() > 0 and h.max() / h.min() > 10:  # a log axis only when it helps
        ax.set_yscale("log")
    bs = ctx.settings.batch_size
    full = not bs or bs >= ctx.params["n_points"]
    ax.set_xlabel(
        "epoch (one full-batch step)" if full else f"epoch (mean over its minibatches of {bs})"
    )
    ax.set_ylabel("loss ‖D(x_t,t,c) − ε‖²")
    ax.set_title("Conditional denoiser: training loss")
    return fig


# --------------------------------------------------------------------------- C3
def trajectories(ctx: Context) -> dict:
    """C3: one DDIM run per class (the drawn paths), and the same starts run under every
    class (:func:`~genmod.diffusion.conditional.class_steering`)."""
    part, K, T = ctx.partition, ctx.K, ctx.T
    lab_one = torch.arange(K)
    paths = []

    def _cb(info):
        paths.append(info["x_next"].cpu().numpy())

    z_one, x_one = C.sample_classes(
        ctx.model, lab_one, ctx.schedule, T, ctx.gen(2), device=ctx.device, callback=_cb
    )
    traj = np.concatenate([z_one.numpy()[None], np.stack(paths)])  # (T+1, K, 2)
    class_means = np.stack([part.mean(c) for c in range(K)])
    i_half = T // 2
    to_mean = {
        "t=1": float(np.linalg.norm(traj[0] - class_means, axis=1).mean()),
        "t=0.5": float(np.linalg.norm(traj[i_half] - class_means, axis=1).mean()),
        "t=0": float(np.linalg.norm(traj[-1] - class_means, axis=1).mean()),
    }
    ctx.state.update(traj=traj, lab_one=lab_one)
    z_s = torch.randn(ctx.settings.steer_starts, 2, generator=ctx.gen(11))
    steer = C.class_steering(ctx.model, z_s, ctx.schedule, T, part, ctx.device)
    return {
        "final_points": x_one.tolist(),
        "in_region": part.contains(x_one, lab_one).tolist(),
        "z": z_one.tolist(),
        "paths": traj[:: max(1, T // 100)].transpose(1, 0, 2).tolist(),
        "distance_to_class_mean": to_mean,
        "steering": steer,
    }


def figure_trajectories(ctx: Context):
    traj = ctx.traj
    return PC.trajectories(
        [traj[:, c] for c in range(ctx.K)], ctx.lab_one, ctx.partition, ctx.names
    )


# --------------------------------------------------------------------------- C4
def _t_stops(T: int) -> list[float]:
    return [0.0] + [s for s in (0.2, 0.3, 0.4) if abs(s * T - round(s * T)) < 1e-9]


def samples(ctx: Context) -> dict:
    """C4: samples of every class from the learned model and the oracle (same z) with the
    exercise's sampler, and from the improved sampler (moment-matched prior, x̂_0 returned).
    Returns the ``samples`` and ``improved`` records."""
    S, part, sched, T, dev = ctx.settings, ctx.partition, ctx.schedule, ctx.T, ctx.device
    model, oracle = ctx.model, ctx.oracle
    labels = C.balanced_labels(ctx.K, S.samples_per_class)
    _, x_learned = C.sample_classes(model, labels, sched, T, ctx.gen(3), device=dev)
    # the same z (common random numbers): the difference is the model's, not the noise's
    _, x_oracle = C.sample_classes(oracle, labels, sched, T, ctx.gen(3), device=dev)
    z_match = C.initial_noise(labels, ctx.gen(4), "matched", part, sched)
    stops = _t_stops(T)
    snaps, end = C.denoised_along_the_way(model, z_match, labels, sched, T, stops, dev, True)
    snaps_o, end_o = C.denoised_along_the_way(oracle, z_match, labels, sched, T, [0.0], dev, True)
    improved_t = S.improved_t_stop if S.improved_t_stop in snaps else 0.0
    x_improved = snaps[improved_t]
    with torch.no_grad():
        lab_d = labels.to(dev)
        hat = denoised(model, x_learned.to(dev), 0.0, sched, lab_d).cpu()
        hat_o = denoised(oracle, x_oracle.to(dev), 0.0, sched, lab_d).cpu()
    ctx.state.update(
        labels=labels, x_learned=x_learned, x_oracle=x_oracle, x_improved=x_improved,
        snaps=snaps, snaps_oracle=snaps_o,
        variants={
            "learned": {"standard_end": x_learned, "standard_denoised": hat,
                        "matched_end": end, "matched_denoised": snaps[0.0]},
            "oracle": {"standard_end": x_oracle, "standard_denoised": hat_o,
                       "matched_end": end_o, "matched_denoised": snaps_o[0.0]},
        },
    )  # fmt: skip
    acc = lambda x: _js(C.class_accuracy(x, labels, part))  # noqa: E731
    sig = float(sched.sigma(torch.tensor(improved_t)))
    desc = (
        f"DDIM (T = {T}) from each class's diagonal moment-matched Gaussian prior "
        "N(mean_c, diag(σ(1)² + var_c)), returning the denoised estimate x̂_0 at "
        f"t = {improved_t:g} (σ = {sig:.3f})"
    )
    return {
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


def figure_samples(ctx: Context):
    lab = ctx.labels
    panels = [
        ("learned, exercise sampler", ctx.x_learned, lab),
        ("oracle, exercise sampler", ctx.x_oracle, lab),
        ("learned, improved sampler", ctx.x_improved, lab),
    ]
    return PC.samples_panels(panels, ctx.partition)


# --------------------------------------------------------------------------- C5
def analysis(ctx: Context) -> dict:
    """C5: per-class spread against the region, the t_stop sweep, where the misses lie, the
    2 × 2 comparison (prior × end point or x̂_0) for the learned model and the oracle, how
    far the t = 1 marginal is from the moment-matched prior, and where the exact posterior
    mean of noisy true points lies."""
    S, part, labels = ctx.settings, ctx.partition, ctx.labels
    stats = {
        k: _js(C.spread_stats(x, labels, part, ctx.gen(5)))
        for k, x in (
            ("learned", ctx.x_learned),
            ("oracle", ctx.x_oracle),
            ("improved", ctx.x_improved),
        )
    }
    sweep = {}
    for s, x in ctx.snaps.items():
        edge = {c: v["edge_share"] for c, v in C.spread_stats(x, labels, part, ctx.gen(5)).items()}
        sweep[str(s)] = {
            "class_accuracy": _js(C.class_accuracy(x, labels, part)),
            "edge_share": _js(edge),
        }
    bd = C.boundary_distance(ctx.x_learned, part, labels)
    lab = labels.numpy()
    fail_med = {
        c: float(np.median(-bd[(lab == c) & (bd < 0)])) if ((lab == c) & (bd < 0)).any() else 0.0
        for c in range(ctx.K)
    }
    variants = {
        who: {k: _js(C.class_accuracy(x, labels, part)) for k, x in v.items()}
        for who, v in ctx.variants.items()
    }
    t_pm = [s for s in sorted(ctx.snaps) if s > 0] or [0.2]
    return {
        "spread_learned": stats["learned"],
        "spread_oracle": stats["oracle"],
        "spread_improved": stats["improved"],
        "t_stop_sweep": sweep,
        "failure_distance_median": _js(fail_med),
        "n_per_class": S.samples_per_class,
        "prior_and_denoise": variants,
        "prior_mismatch": _js(C.prior_mismatch(part, ctx.schedule, S.prior_draws, ctx.gen(12))),
        "posterior_mean_inside": _js(
            {
                t: _js(v)
                for t, v in C.posterior_mean_inside(
                    part, ctx.schedule, t_pm, S.samples_per_class, ctx.gen(13)
                ).items()
            }
        ),
    }


# --------------------------------------------------------------------------- C6
def probes(ctx: Context) -> list[dict]:
    """C6: Eq. 9, the PF-ODE density and the truth at the probe points."""
    S = ctx.settings
    res = C.evaluate_probes(
        ctx.model, ctx.params["probe_points"], ctx.partition, ctx.schedule, ctx.T,
        S.eq9_draws, S.ode_steps, ctx.gen(6), ctx.device,
    )  # fmt: skip
    ctx.state["probe_res"] = res
    return res


def figure_probes(ctx: Context):
    pr = ctx.probe_res

    def fmt(i):
        return (
            f"−L_T {pr[i]['log_prob_bound']:.4g} ± {pr[i]['stderr']:.2g}\n"
            f"ODE {pr[i]['exact_log_prob']:.4g}"
        )

    pts = ctx.params["probe_points"]
    x, lab, _ = shown_points(ctx)
    return PC.probes_on_data(x, lab, pts, None, ctx.partition, value_fmt=fmt)


def _grid(n: int) -> tuple[np.ndarray, torch.Tensor]:
    lin = np.linspace(-2, 2, n)
    gx, gy = np.meshgrid(lin, lin, indexing="ij")
    return lin, torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)


def likelihood(ctx: Context) -> dict:
    """C6: the PF-ODE density over interior points of each class (learned: moment-matched
    and N(0, I) priors, and the x̂_0-returning sampler's density; oracle: moment-matched
    prior) and on a grid over [-2, 2]² per class."""
    S, part, sched, dev, K = ctx.settings, ctx.partition, ctx.schedule, ctx.device, ctx.K
    model, oracle = ctx.model, ctx.oracle
    n_in = S.interior_per_class
    tol = {"rtol": S.lik_tol, "atol": S.lik_tol}
    variants = C.interior_likelihood_variants(model, part, sched, n_in, ctx.gen(7), dev, **tol)
    lik, lik_std, lik_den = variants["matched"], variants["standard"], variants["denoised"]
    n_o = max(10, n_in // 5)
    lik_o = C.interior_likelihood_variants(oracle, part, sched, n_o, ctx.gen(7), dev, **tol)
    lik_o = lik_o["matched"]
    lin, grid_pts = _grid(S.grid)
    means, stds = C.class_prior(part, sched)
    grids = []
    for c in range(K):
        r = L.exact_log_prob(
            model, grid_pts.to(dev), sched, c=c, prior_mean=means[c], prior_std=stds[c],
            rtol=S.lik_map_tol, atol=S.lik_map_tol,
        )  # fmt: skip
        grids.append(r.log_prob.numpy().reshape(S.grid, S.grid))
        grid_solver = dict(r.solver)
    gp = grid_pts.numpy()
    far = np.abs(gp).max(1) > 1.5
    ctx.state.update(grids=grids, means=means, stds=stds)
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
    return rec


def figure_heatmaps(ctx: Context):
    grids = ctx.grids
    titles = [f"c={c} {ctx.names[c]}" for c in range(ctx.K)]
    vmax = max(3.0, float(np.max(grids)))
    return PC.heatmaps(
        grids, (-2, 2, -2, 2), titles, ctx.partition, vmin=-12, vmax=vmax,
        label="log p(x | c), PF-ODE output (nats)",
    )  # fmt: skip


def likelihood_compare(ctx: Context) -> dict:
    """C6: Eq. 9, the full variational bound, the PF-ODE density and the truth on one grid,
    for the first probe's class."""
    S, part, sched, dev = ctx.settings, ctx.partition, ctx.schedule, ctx.device
    c_show = ctx.params["probe_points"][0][2]
    n_cmp = max(11, S.grid // 2 * 2 - 9)
    lin_c, cmp_pts = _grid(n_cmp)
    means, stds = ctx.means, ctx.stds
    b = L.eq9_bound(
        ctx.model, cmp_pts.to(dev), sched, T=ctx.T, c=c_show, n_draws=S.eq9_draws // 16,
        generator=ctx.gen(10),
    )  # fmt: skip
    terms = L.vlb_terms(cmp_pts, sched, means[c_show], stds[c_show])
    ex = L.exact_log_prob(
        ctx.model, cmp_pts.to(dev), sched, c=c_show, prior_mean=means[c_show],
        prior_std=stds[c_show], rtol=S.lik_map_tol, atol=S.lik_map_tol,
    )  # fmt: skip
    cmp = {
        "−L_T (Eq. 9)": b.log_prob_bound.numpy(),
        "−L_T + recon − KL": (
            b.log_prob_bound + terms["reconstruction"] - terms["prior_kl"]
        ).numpy(),
        "exact (PF-ODE)": ex.log_prob.double().numpy(),
        "truth": C.true_log_density(part, cmp_pts, np.full(len(cmp_pts), c_show)),
    }
    ctx.state.update(cmp=cmp, n_cmp=n_cmp, c_show=c_show)
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
    return {
        "class": c_show,
        "solver": dict(ex.solver),
        "x": lin_c.tolist(),
        "summary": summary,
        **{k: v.tolist() for k, v in zip(("bound", "full_bound", "exact"), vals[:3])},
    }


def figure_compare(ctx: Context):
    n, c = ctx.n_cmp, ctx.c_show
    grids = [np.where(np.isfinite(v), v, np.nan).reshape(n, n) for v in ctx.cmp.values()]
    return PC.heatmaps(
        grids, (-2, 2, -2, 2), [f"{k}, c={c}" for k in ctx.cmp], ctx.partition, vmin=-12,
        vmax=3.0, label="log p(x | c) or its bound (nats)",
    )  # fmt: skip


# --------------------------------------------------------------------------- Bonus
def bonus(ctx: Context) -> dict:
    """Bonus: four attempts to make the model output ``bonus_target`` (two simple, two
    principled), the same inversion for a second target, and the distances that say how
    far each end point is from the data."""
    S, part, sched, T, dev, model = (
        ctx.settings, ctx.partition, ctx.schedule, ctx.T, ctx.device, ctx.model,
    )  # fmt: skip
    tgt = ctx.params["bonus_target"]
    c_b = C.nearest_class(part, tgt)
    attempts = [
        B.start_at_target(model, tgt, sched, T, c=c_b, device=dev),
        B.best_of_n(model, tgt, sched, T, S.bonus_best_of, ctx.gen(8), c=c_b, device=dev),
        B.invert_ddim(model, tgt, sched, T, c=c_b, device=dev),
        B.optimise_noise(
            model, tgt, sched, S.bonus_steps, lam=1.0, iters=S.bonus_iters, lr=0.1,
            generator=ctx.gen(9), c=c_b, device=dev,
        ),
    ]  # fmt: skip
    other = next(o for o in OTHER_TARGETS if o != tgt)
    c_o = C.nearest_class(part, other)
    other_inv = B.invert_ddim(model, other, sched, T, c=c_o, device=dev)
    att = [a.to_json() for a in attempts]
    ctx.state["bonus_attempts"] = [dict(a) for a in att]
    best = min((a for a in attempts if a.principled), key=lambda a: a.error)
    dist = lambda p: float(C.distance_to_region([p], part, c_b)[0])  # noqa: E731
    for a in att:
        a["trajectory"] = a["trajectory"][:: max(1, len(a["trajectory"]) // 200)] + [
            a["trajectory"][-1]
        ]
        a.pop("loss_history", None)
        a["distance_to_region"] = dist(a["final"])
        a["start_distance_to_region"] = dist(a["z"])
    own = ctx.x0[ctx.lab0 == c_b].numpy()
    d_train = np.linalg.norm(ctx.x0.numpy() - np.asarray(tgt), axis=1)
    return {
        "target": tgt,
        "class": c_b,
        "reached": best.reached(0.01),
        "error": best.error,
        "method": best.method,
        "attempts": att,
        "other_target": {
            "target": other,
            "class": c_o,
            "error": other_inv.error,
            "reached": other_inv.reached(0.01),
            "method": other_inv.method,
            "z": other_inv.z,
        },
        "tolerance": 0.01,
        "target_distance_to_region": dist(tgt),
        "target_in_square": bool(part.label(np.array([tgt]))[0] >= 0),
        "nearest_training_distance": (
            float(np.linalg.norm(own - np.asarray(tgt), axis=1).min()) if len(own) else None
        ),
        "nearest_training_distance_any": float(d_train.min()),
        "typical_z_log_prior": -math.log(2 * math.pi) - 1.0,  # E log N(z; 0, I) in 2D
        "sigma_ratio": sched.sigma_min / sched.sigma_max,
    }


def figure_bonus(ctx: Context):
    names = {a["method"]: bonus_name(a) for a in ctx.bonus_attempts}
    return PC.bonus_trajectories(ctx.bonus_attempts, ctx.partition, names)
