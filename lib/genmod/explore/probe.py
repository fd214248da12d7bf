"""The probability probe (section 02): how probable one point is under the class-conditional
model.

Compute: :func:`probe_view` — for a point (x, y) and a class c, the exercise's Eq. 9 bound
−L_T(x | c) ± its Monte-Carlo standard error (:func:`genmod.diffusion.likelihood.eq9_bound`),
the exact log density of the continuous-time probability-flow ODE's output at t = 0
(:func:`~genmod.diffusion.likelihood.exact_log_prob`, started from the class's matched prior
and from N(0, I)), and the true log density −log area_c inside region c.

Render: :class:`ProbePlot` (the point on the class map), :func:`probe_summary` (the numbers).
UI: :func:`make_probe_explorer`.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

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


@dataclass
class ProbeView:
    """The probability of one point under the class-conditional model."""

    x: float
    y: float
    c: int
    class_name: str
    in_region: bool  # the point lies in class c's region
    region_label: int  # the class whose region holds the point (−1: outside the square)
    truth: float | None  # log p_data(x | c) = −log area_c inside region c, else None (−∞)
    log_prob_bound: float  # −L_T(x | c), the exercise's Eq. 9
    stderr: float  # its Monte-Carlo standard error
    n_draws: int
    T: int
    full_bound: float  # −L_T + reconstruction − KL(q(x_1 | x) ‖ matched prior)
    # the exact log density of the probability-flow ODE's output at t = 0 (None: not asked)
    exact: float | None = None  # … started from the class's matched prior
    exact_standard: float | None = None  # … started from the exercise's N(0, I) prior
    ode_steps: int = 0  # the steps asked for (used by a fixed-step solver only)
    solver: dict = field(default_factory=dict)  # how the ODE was integrated (from the solver)
    ode_nfe: int = 0  # evaluations of the ODE's right-hand side (v and ∇·v)


def probe_view(
    model,
    x: float,
    y: float,
    c: int,
    partition=None,
    schedule=None,
    T: int = 1000,
    n_draws: int = 8192,
    exact: bool = True,
    ode_steps: int = 50,
    seed: int = 0,
    class_names=None,
    device="cpu",
) -> ProbeView:
    """Eq. 9 bound (and the exact log-likelihood if ``exact``) of the point (x, y) given c.

    Eq. 9: −L_T(x | c) with L_T = (T/2)·E_{ε, t}[(SNR(t − 1/T) − SNR(t))·‖x − x̂₀(x_t, t, c)‖²]
    (:func:`genmod.diffusion.likelihood.eq9_bound`, ``n_draws`` stratified (t, ε) draws from
    ``seed``). Exact: the density of the continuous-time probability-flow ODE's output at
    t = 0, log p(x | c) = log π(x(1)) + ∫₀¹ ∇·v dt, integrated by
    :func:`~genmod.diffusion.likelihood.exact_log_prob` with its default solver (``ode_steps``
    is passed as its ``n_steps``, used by a fixed-step method only), for the class's matched
    prior π and for N(0, I); the solver's description is kept in ``solver``.
    """
    from genmod.diffusion import conditional as C
    from genmod.diffusion.likelihood import (
        eq9_bound,
        exact_log_prob,
        gaussian_log_prob,
        vlb_terms,
    )
    from genmod.diffusion.schedules import ExpSchedule
    from genmod.sections.diffusion_conditional.config import CLASS_NAMES, FIVE_REGIONS

    partition = partition or FIVE_REGIONS
    schedule = schedule or ExpSchedule()
    names = class_names or (CLASS_NAMES if partition is FIVE_REGIONS else None)
    c = int(c)
    if not 0 <= c < partition.n_classes:
        raise ValueError(f"c={c!r}: accepted 0–{partition.n_classes - 1}")
    pt = torch.tensor([[float(x), float(y)]], dtype=torch.float32)
    g = torch.Generator().manual_seed(seed)
    b = eq9_bound(model, pt.to(device), schedule, T=T, c=c, n_draws=n_draws, generator=g)
    means, stds = C.class_prior(partition, schedule)
    terms = vlb_terms(pt, schedule, means[c], stds[c])
    truth = C.true_log_density(partition, pt, np.array([c]))[0]
    bound = float(b.log_prob_bound[0])
    view = ProbeView(
        x=float(x),
        y=float(y),
        c=c,
        class_name=names[c] if names else f"class {c}",
        in_region=bool(np.isfinite(truth)),
        region_label=int(partition.label(pt.numpy())[0]),
        truth=float(truth) if np.isfinite(truth) else None,
        log_prob_bound=bound,
        stderr=float(b.stderr[0]),
        n_draws=int(b.n_draws),
        T=int(T),
        full_bound=bound + float(terms["reconstruction"][0]) - float(terms["prior_kl"][0]),
    )
    if exact:
        # one ODE solve serves both priors: the flow x → z = x(1) and ∫∇·v dt do not depend
        # on the prior, which only enters as log π(z)
        r = exact_log_prob(
            model,
            pt.to(device),
            schedule,
            c=c,
            prior_mean=means[c],
            prior_std=stds[c],
            n_steps=ode_steps,
        )
        std_prior = gaussian_log_prob(r.z.double())  # N(0, I)
        view.exact = float(r.log_prob[0])
        view.exact_standard = float(r.divergence_integral.double()[0] + std_prior[0])
        view.ode_steps = int(ode_steps)
        view.solver = dict(getattr(r, "solver", None) or {"method": "rk4", "n_steps": ode_steps})
        view.ode_nfe = int(getattr(r, "nfe", 0) or 0)
    return view


class ProbePlot(PersistentPlot):
    """The probe's figure, built once: the class map (regions filled in their class
    colours), optional training data; each call moves the probe marker (in its class's
    colour) and returns the PNG."""

    def __init__(self, partition, data=None, data_labels=None, lim: float = 2.2, class_names=None):
        from genmod.diffusion import plots_conditional as PC

        self.fig, (ax,) = new_figure(1, 1, (4.6, 4.0))
        self.colors = PC.class_colors(partition.n_classes)
        if data is not None:
            PC.scatter_classes(ax, data, data_labels, partition, s=1.0, legend=False)
        PC.draw_partition(ax, partition, fill=True, alpha=0.25)
        self.marker = ax.scatter([0.0], [0.0], s=140, marker="X", edgecolor="k", lw=1.0, zorder=5)
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        self.ax, self.lim, self.names = ax, lim, class_names
        self.dynamic = (self.marker, ax.title)  # redrawn at every update

    def __call__(self, view: ProbeView) -> bytes:
        self.marker.set_offsets([[view.x, view.y]])
        self.marker.set_facecolor(self.colors[view.c])
        # ±lim, or wider in steps of 0.5 for a point near the edge (the background is redrawn)
        span = max(self.lim, math.ceil(2 * (max(abs(view.x), abs(view.y)) + 0.3)) / 2)
        self.ax.set_xlim(-span, span)
        self.ax.set_ylim(-span, span)
        self.ax.set_title(
            f"probe ({view.x:.2f}, {view.y:.2f}), class {view.c}: {view.class_name}", fontsize=9
        )
        return self.png(key=span)


def solver_text(solver: dict, nfe: int = 0) -> str:
    """The ODE solver in words, from the solver's own description, e.g. "dopri5, rtol 1e-06,
    atol 1e-06, float64, 86 ODE evaluations" or "rk4, 50 steps"."""
    parts = [str(solver.get("method", "?"))]
    if "rtol" in solver:
        parts.append(f"rtol {solver['rtol']:g}, atol {solver.get('atol', float('nan')):g}")
    if "n_steps" in solver:
        parts.append(f"{solver['n_steps']} steps")
    if solver.get("dtype"):
        parts.append(str(solver["dtype"]))
    if nfe:
        parts.append(plural(nfe, "ODE evaluation"))
    return ", ".join(parts)


def probe_summary(view: ProbeView, names=None) -> str:
    """The probe's numbers as an HTML table."""
    where = (
        f"inside class {view.c}'s region"
        if view.in_region
        else (
            "outside the square"
            if view.region_label < 0
            else f"in class {view.region_label}'s region"
            + (f" ({names[view.region_label]})" if names else "")
            + f", not class {view.c}'s"
        )
    )
    rows = [
        (
            "point, class",
            f"({view.x:.3f}, {view.y:.3f}), class {view.c}: {html.escape(view.class_name)}",
        ),
        ("where", where),
        (
            "true log p(x | c)",
            "−∞ (outside the region)" if view.truth is None else f"{view.truth:.3f} = −log area",
        ),
        (
            "Eq. 9 bound −L_T",
            f"{view.log_prob_bound:.4g} ± {view.stderr:.2g} (T = {view.T}, {view.n_draws} draws)",
        ),
        ("−L_T + reconstruction − KL to the matched prior", f"{view.full_bound:.4g}"),
    ]
    if view.exact is not None:
        rows += [
            (
                "exact log p of the probability-flow ODE's output at t = 0, from the matched prior",
                f"{view.exact:.4g} ({html.escape(solver_text(view.solver, view.ode_nfe))})",
            ),
            ("exact log p of the same ODE, from N(0, I)", f"{view.exact_standard:.4g}"),
        ]
    return html_table(rows)


def make_probe_explorer(
    model,
    partition=None,
    schedule=None,
    T: int = 1000,
    data=None,
    data_labels=None,
    x: float = -0.6,
    y: float = 0.3,
    c: int = 0,
    n_draws: int = 8192,
    ode_steps: int = 50,
    class_names=None,
    device="cpu",
) -> Explorer:
    """The probability probe around a trained class-conditional EpsModel ``model``.

    Controls: x, y (sliders over [−2.5, 2.5]), class, exact log-likelihood on/off. ``data``,
    ``data_labels``: the training points, drawn faintly on the class map."""
    import ipywidgets as W

    from genmod.sections.diffusion_conditional.config import CLASS_NAMES, FIVE_REGIONS

    partition = partition or FIVE_REGIONS
    names = class_names or (CLASS_NAMES if partition is FIVE_REGIONS else None)
    opts = [(f"{k}: {names[k]}" if names else f"class {k}", k) for k in range(partition.n_classes)]
    slider = dict(min=-2.5, max=2.5, step=0.01, continuous_update=False, readout_format=".2f")
    controls = {
        "x": W.FloatSlider(value=x, description="x", **slider),
        "y": W.FloatSlider(value=y, description="y", **slider),
        "c": W.Dropdown(options=opts, value=int(c), description="class"),
        "exact": W.Checkbox(value=True, description="exact log-likelihood (ODE)"),
    }
    image, summary = png_image(), W.HTML()

    def compute(**kw):
        return probe_view(
            model,
            partition=partition,
            schedule=schedule,
            T=T,
            n_draws=n_draws,
            ode_steps=ode_steps,
            class_names=names,
            device=device,
            **kw,
        )

    plot = ProbePlot(partition, data, data_labels, class_names=names)

    def render(view):
        return {"figure": plot(view), "summary": probe_summary(view, names)}

    body = W.HBox([image, summary])
    return Explorer(
        controls,
        compute,
        render,
        {"figure": image, "summary": summary},
        body=body,
        title="Probability probe (section 02)",
    )
