"""The sampler explorer (section 01): the unconditional model through one of the samplers.

Compute: :func:`sampler_view` runs the trained model through one of the samplers of
:mod:`genmod.diffusion.samplers` (DDIM = the exercise's Euler step in t, Euler in σ, Heun in
σ, the stochastic λ-sampler), on a uniform or ρ-spaced time grid, from the exercise's
N(0, I) prior or the matched one, with or without the final denoised estimate x̂₀, and
measures the samples: the inside fraction, the edge band and the energy distance to a fixed
true sample (:func:`truth_evaluator`, with the noise floor). The schedule σ(t) = e^{5(t−1)}
itself is the one the model was trained with; what can be changed without retraining is its
discretisation (the time grid).

Render: :class:`SamplerPlot` (samples and two trajectories), :func:`sampler_summary` (the
numbers). UI: :func:`make_sampler_explorer`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from genmod.explore.common import (
    Explorer,
    PersistentPlot,
    html_table,
    new_figure,
    png_image,
)
from genmod.text import plural

SAMPLERS = {
    "ddim": "Euler in t (DDIM, the exercise's)",
    "euler_sigma": "Euler in σ",
    "heun": "Heun in σ (2nd order)",
    "stochastic": "stochastic λ-sampler (Euler–Maruyama in t)",
}
GRIDS = {"uniform": "uniform t (dt = −1/T)", "karras": "ρ-spaced σ (ρ = 7)"}
PRIORS = {"standard": "N(0, I) (the exercise's)", "matched": "matched N(m, σ(1)² + var)"}
STEP_CHOICES = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)


@dataclass
class SamplerView:
    """One run of a sampler: the samples, a few trajectories and the quality numbers."""

    points: torch.Tensor  # (n, 2) the samples
    start: torch.Tensor  # (n, 2) the starting points at t = 1 (z after the prior)
    t: torch.Tensor  # (K,) times of the trajectory points, from 1 down to the grid's end
    paths: torch.Tensor  # (K, n_traj, 2) trajectories of the first n_traj points
    nfe: int  # network evaluations per point (counted)
    metrics: dict  # inside_fraction, edge_band, energy_distance, ks, … (vs a true sample)
    label: str  # the sampler in words
    steps: int
    lam: float


def truth_evaluator(n: int, seed: int = 12345, floor: dict | None = None) -> Callable:
    """Metrics against ONE fixed true sample of n points (so the same settings give the same
    numbers, and differences between settings are not the truth sample's noise):
    :meth:`genmod.diffusion.metrics.Evaluator.paired`."""
    from genmod.diffusion.metrics import Evaluator

    return Evaluator(floor, torch.Generator().manual_seed(seed), n).paired()


def sampler_view(
    model,
    sampler: str = "ddim",
    grid: str = "uniform",
    prior: str = "standard",
    final_denoise: bool = False,
    steps: int = 100,
    lam: float = 1.0,
    seed: int = 0,
    n: int = 500,
    n_traj: int = 2,
    schedule=None,
    evaluate: Callable | None = None,
    device="cpu",
) -> SamplerView:
    """Sample n points with ``sampler`` and ``steps`` steps and measure them.

    ``sampler``: "ddim" | "euler_sigma" | "heun" (:func:`genmod.diffusion.samplers.run`
    with a :class:`~genmod.diffusion.samplers.SamplerSpec`) or "stochastic" (the
    λ-sampler x ← x + (1+λ²)σ̇ε̂·dt + λ√(2σσ̇)√|dt|·ξ; λ = 0 is DDIM). z comes from ``seed``
    (:func:`~genmod.diffusion.samplers.draw_noise`), the stochastic sampler's per-step
    noise from ``seed + 1``. ``evaluate``: points → metrics (default: :func:`truth_evaluator`).
    """
    from genmod.diffusion import samplers as U
    from genmod.diffusion import sampling as S
    from genmod.diffusion.schedules import ExpSchedule

    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r}: accepted {' | '.join(SAMPLERS)}")
    if grid not in GRIDS:
        raise ValueError(f"grid={grid!r}: accepted {' | '.join(GRIDS)}")
    if prior not in PRIORS:
        raise ValueError(f"prior={prior!r}: accepted {' | '.join(PRIORS)}")
    if int(steps) < 1:
        raise ValueError(f"steps={steps!r}: expected an integer ≥ 1")
    steps, n_traj = int(steps), max(0, min(int(n_traj), int(n)))
    schedule = schedule or ExpSchedule()
    spec = U.SamplerSpec("ddim" if sampler == "stochastic" else sampler, grid, prior, final_denoise)
    z = U.draw_noise(n, seed)
    mean, std = U.prior_params(spec, schedule)
    start = z * std + (0.0 if mean is None else torch.as_tensor(mean, dtype=z.dtype))
    ts, xs = [], []

    def record(info):
        ts.append(info["t"])
        xs.append(info["x"][:n_traj].detach().cpu())

    if sampler == "stochastic":
        counter = S.NFECounter(model)
        g = torch.Generator().manual_seed(seed + 1)
        grid_t = S.time_grid(steps, grid, schedule)
        with torch.inference_mode():
            x = S.sample_stochastic(
                counter,
                start.to(device),
                grid_t,
                schedule,
                float(lam),
                generator=g,
                callback=record,
                final_denoise=final_denoise,
            )
        points, nfe = x.cpu(), counter.nfe
        label = f"{SAMPLERS[sampler]}, λ = {lam:g}, {GRIDS[grid]}, {PRIORS[prior]}" + (
            ", final x̂₀" if final_denoise else ""
        )
    else:
        points, nfe = U.run(model, spec, z, steps, schedule, callback=record, device=device)
        label = spec.label
    t_end = float(S.time_grid(steps, grid, schedule)[-1])
    ts.append(t_end)
    xs.append(points[:n_traj])
    evaluate = evaluate or truth_evaluator(n)
    return SamplerView(
        points=points,
        start=start,
        t=torch.tensor(ts, dtype=torch.float64),
        paths=torch.stack(xs),
        nfe=int(nfe),
        metrics=evaluate(points),
        label=label,
        steps=steps,
        lam=float(lam) if sampler == "stochastic" else 0.0,
    )


class SamplerPlot(PersistentPlot):
    """The sampler explorer's figure, built once and updated in place (only the data change):
    left, the samples (grey: the starting noise) and the square; right, the trajectories
    coloured by t, start (o) and end (x) marked. Calling it with a :class:`SamplerView`
    returns the PNG."""

    def __init__(self, lim: float = 1.8):
        from matplotlib.collections import LineCollection
        from matplotlib.colors import Normalize

        from genmod.style import TRAJECTORY_END, TRAJECTORY_START, draw_square

        self.fig, (a1, a2) = new_figure(1, 2, (7.0, 3.3))
        self.start = a1.scatter(
            np.zeros(0), np.zeros(0), s=3.0, color="0.8", lw=0, label="start (t = 1)"
        )
        self.points = a1.scatter(np.zeros(0), np.zeros(0), s=4.0, color="C0", lw=0, label="sample")
        self.lines = LineCollection([], cmap="viridis", norm=Normalize(0.0, 1.0), lw=1.5)
        a2.add_collection(self.lines)
        self.z = a2.scatter(np.zeros(0), np.zeros(0), **TRAJECTORY_START)
        self.end = a2.scatter(np.zeros(0), np.zeros(0), **TRAJECTORY_END)
        squares = []
        for ax in (a1, a2):
            draw_square(ax)
            squares.append(ax.patches[-1])
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.set_xlabel("x")
            ax.set_ylabel("y")
        leg1 = a1.legend(loc="upper right", fontsize=7, markerscale=4)
        leg2 = a2.legend(loc="upper right", fontsize=7)
        self.fig.colorbar(self.lines, ax=a2, label="t")
        self.axes = (a1, a2)
        # redrawn at every update, in the order of their z-order (spines and legends on top)
        s1, s2 = (tuple(ax.spines.values()) for ax in (a1, a2))
        self.dynamic = (self.start, self.points, squares[0], *s1, leg1, a1.title)
        self.dynamic += (squares[1], self.lines, *s2, self.z, self.end, leg2, a2.title)

    def __call__(self, view: SamplerView) -> bytes:
        a1, a2 = self.axes
        self.start.set_offsets(view.start.numpy())
        self.points.set_offsets(view.points.numpy())
        p = view.paths.numpy()  # (K, m, 2)
        seg = [np.stack([p[:-1, j], p[1:, j]], axis=1) for j in range(p.shape[1])]
        seg = np.concatenate(seg) if seg else np.zeros((0, 2, 2))
        tm = 0.5 * (view.t[:-1] + view.t[1:]).numpy()
        self.lines.set_segments(seg)
        self.lines.set_array(np.tile(tm, p.shape[1]))
        self.z.set_offsets(p[0])
        self.end.set_offsets(p[-1])
        # the trajectories' axes: ±span, in steps of 0.5 (a new span redraws the background)
        span = max(1.5, math.ceil(2 * (float(np.abs(p).max()) + 0.2)) / 2) if p.size else 1.5
        a2.set_xlim(-span, span)
        a2.set_ylim(-span, span)
        a1.set_title(
            f"{plural(len(view.points), 'sample')}, {plural(view.nfe, 'network evaluation')}",
            fontsize=9,
        )
        a2.set_title(
            f"{plural(p.shape[1], 'trajectory', 'trajectories')} ({plural(view.steps, 'step')})",
            fontsize=9,
        )
        return self.png(key=span)


def sampler_figure(view: SamplerView) -> bytes:
    """PNG of :class:`SamplerPlot` for one view (a fresh figure)."""
    return SamplerPlot()(view)


def sampler_summary(view: SamplerView, floor: dict | None = None) -> str:
    """The quality numbers of a :class:`SamplerView` as an HTML table."""
    m = view.metrics
    rows = [
        ("sampler", html.escape(view.label)),
        ("steps / network evaluations", f"{view.steps} / {view.nfe}"),
        ("inside the square", f"{100 * m['inside_fraction']:.1f} % (truth 100 %)"),
        ("edge band max(|x|, |y|) > 0.9", f"{m['edge_band']:.3f} (truth {1 - 0.9**2:.2f})"),
    ]
    ed = f"{m['energy_distance']:.5f}"
    if floor is not None:
        ed += (
            f" (noise floor of two true samples of this size: median {floor['median']:.5f}, "
            f"95th percentile {floor['p95']:.5f})"
        )
    rows.append(("energy distance to a true sample", ed))
    if "ks" in m:
        rows.append(
            (
                "KS p-value vs U(−1, 1): x, y",
                f"{m['ks']['x']['pvalue']:.3f}, {m['ks']['y']['pvalue']:.3f}",
            )
        )
    return html_table(rows)


def make_sampler_explorer(
    model,
    schedule=None,
    n: int = 500,
    n_traj: int = 2,
    steps: int = 100,
    lam: float = 1.0,
    seed: int = 0,
    floor_repeats: int = 20,
    device="cpu",
) -> Explorer:
    """The sampler explorer around a trained (unconditional) EpsModel ``model``.

    Controls: sampler, time grid, prior, final x̂₀, steps, λ (stochastic sampler only), seed.
    The true sample for the metrics and the noise floor (``floor_repeats`` pairs of true
    samples of n points) are drawn once, here.
    """
    import ipywidgets as W

    from genmod.diffusion import metrics as M

    floor = M.noise_floor(M.square_truth, n=n, repeats=floor_repeats, seed=54321)
    evaluate = truth_evaluator(n, floor=floor)
    steps = min(STEP_CHOICES, key=lambda s: abs(s - steps))
    style = {"description_width": "initial"}
    controls = {
        "sampler": W.Dropdown(
            options=[(v, k) for k, v in SAMPLERS.items()],
            value="ddim",
            description="sampler",
            style=style,
        ),
        "grid": W.Dropdown(
            options=[(v, k) for k, v in GRIDS.items()],
            value="uniform",
            description="time grid",
            style=style,
        ),
        "prior": W.Dropdown(
            options=[(v, k) for k, v in PRIORS.items()],
            value="standard",
            description="prior at t = 1",
            style=style,
        ),
        "final_denoise": W.Checkbox(value=False, description="return x̂₀ at the end"),
        "steps": W.SelectionSlider(
            options=STEP_CHOICES, value=steps, description="steps", continuous_update=False
        ),
        "lam": W.FloatSlider(
            value=lam,
            min=0.0,
            max=3.0,
            step=0.1,
            description="λ",
            continuous_update=False,
            disabled=True,
        ),
        "seed": W.IntText(value=seed, description="seed"),
    }

    def toggle_lam(change=None):
        controls["lam"].disabled = controls["sampler"].value != "stochastic"

    controls["sampler"].observe(toggle_lam, names="value")
    toggle_lam()
    image, summary = png_image(), W.HTML()

    def compute(**kw):
        return sampler_view(
            model, n=n, n_traj=n_traj, schedule=schedule, evaluate=evaluate, device=device, **kw
        )

    plot = SamplerPlot()

    def render(view):
        return {"figure": plot(view), "summary": sampler_summary(view, floor)}

    return Explorer(
        controls,
        compute,
        render,
        {"figure": image, "summary": summary},
        title="Sampler explorer (section 01)",
    )
