"""Interactive explorers for JupyterLab (issue 9): the tested logic behind three ipywidgets UIs.

Each explorer is a pure compute function, which the tests call directly, plus a
``make_*_explorer(model, ...)`` that wraps it in widgets around a model the notebook has
already trained (changing a control re-runs only the compute function, never training):

- **sampler explorer** (section 01) — :func:`sampler_view`: the unconditional model through
  one of the samplers of :mod:`genmod.diffusion.sampling` (DDIM = the exercise's Euler step
  in t, Euler in σ, Heun in σ, the stochastic λ-sampler), on a uniform or ρ-spaced time
  grid, from the exercise's N(0, I) prior or the matched one, with or without the final
  denoised estimate x̂₀; shows the samples, two trajectories, and the inside fraction, the
  edge band and the energy distance to a fixed true sample (with the noise floor).
  The schedule σ(t) = e^{5(t−1)} itself is the one the model was trained with; what can be
  changed without retraining is its discretisation (the time grid).
- **probability probe** (section 02) — :func:`probe_view`: for a point (x, y) and a class c,
  the exercise's Eq. 9 bound −L_T(x | c) ± its Monte-Carlo standard error
  (:func:`genmod.diffusion.likelihood.eq9_bound`), the exact log-likelihood of the
  probability-flow sampler (:func:`~genmod.diffusion.likelihood.exact_log_prob`, matched
  and N(0, I) prior), and the true log density −log area_c inside region c; the point is
  drawn on the class map.
- **attention explorer** (section 03) — :func:`prompt_forward` + :func:`attention_view`:
  for a prompt, one forward pass gives every block's attention weights
  A = softmax(QKᵀ/√d + M) (per head) and the next-token distribution at every position; a
  block, a head (or the head average) and a query position select the row painted on the
  tokens (:func:`genmod.gpt.paint.paint_tokens`), the heat map of the whole matrix, and the
  top-k next tokens with their probabilities.

The UI part (:class:`Explorer`) observes every control and, on each change, calls the
compute function and renders the result into widgets updated in place: figures are drawn
with a pyplot-free :class:`matplotlib.figure.Figure` into a PNG ``widgets.Image`` (so they
work headless and never pile up in the notebook), numbers into ``widgets.HTML``.
"""

from __future__ import annotations

import html
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

# ======================================================================= sampler (section 01)
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
    :meth:`genmod.diffusion.unconditional.Evaluator.paired`."""
    from genmod.diffusion.unconditional import Evaluator

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

    ``sampler``: "ddim" | "euler_sigma" | "heun" (:func:`genmod.diffusion.unconditional.run`
    with a :class:`~genmod.diffusion.unconditional.SamplerSpec`) or "stochastic" (the
    λ-sampler x ← x + (1+λ²)σ̇ε̂·dt + λ√(2σσ̇)√|dt|·ξ; λ = 0 is DDIM). z comes from ``seed``
    (:func:`~genmod.diffusion.unconditional.draw_noise`), the stochastic sampler's per-step
    noise from ``seed + 1``. ``evaluate``: points → metrics (default: :func:`truth_evaluator`).
    """
    from genmod.diffusion import sampling as S
    from genmod.diffusion import unconditional as U
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


class SamplerPlot:
    """The sampler explorer's figure, built once and updated in place (only the data change):
    left, the samples (grey: the starting noise) and the square; right, the trajectories
    coloured by t, start (o) and end (x) marked. Calling it with a :class:`SamplerView`
    returns the PNG."""

    def __init__(self, lim: float = 1.8):
        from matplotlib.collections import LineCollection
        from matplotlib.colors import Normalize

        from genmod.style import draw_square

        self.fig, (a1, a2) = _figure(1, 2, (7.0, 3.3))
        self.start = a1.scatter(
            np.zeros(0), np.zeros(0), s=3.0, color="0.8", lw=0, label="start (t = 1)"
        )
        self.points = a1.scatter(np.zeros(0), np.zeros(0), s=4.0, color="C0", lw=0, label="sample")
        self.lines = LineCollection([], cmap="viridis", norm=Normalize(0.0, 1.0), lw=1.5)
        a2.add_collection(self.lines)
        self.z = a2.scatter(
            np.zeros(0),
            np.zeros(0),
            marker="o",
            facecolor="none",
            edgecolor="k",
            s=30,
            label="start z (t = 1)",
            zorder=3,
        )
        self.end = a2.scatter(
            np.zeros(0), np.zeros(0), marker="x", color="red", s=30, label="end (t = 0)", zorder=3
        )
        for ax in (a1, a2):
            draw_square(ax)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.set_xlabel("x")
            ax.set_ylabel("y")
        a1.legend(loc="upper right", fontsize=7, markerscale=4)
        a2.legend(loc="upper right", fontsize=7)
        self.fig.colorbar(self.lines, ax=a2, label="t")
        self.axes = (a1, a2)
        self._first = True

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
        span = max(1.3, float(np.abs(p).max()) + 0.2) if p.size else 1.3
        a2.set_xlim(-span, span)
        a2.set_ylim(-span, span)
        a1.set_title(f"{len(view.points)} samples, {view.nfe} network evaluations", fontsize=9)
        a2.set_title(f"{p.shape[1]} trajectories ({view.steps} steps)", fontsize=9)
        return _png(self)


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
    return _table(rows)


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
    image, summary = W.Image(format="png"), W.HTML()

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


# ======================================================================= probe (section 02)
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
    exact: float | None = None  # exact PF-ODE log-likelihood, class's matched prior
    exact_standard: float | None = None  # … with the exercise's N(0, I) prior
    ode_steps: int = 0


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
    ``seed``). Exact: log p(x | c) = log π(x(1)) + ∫₀¹ ∇·v dt along the probability-flow ODE
    (RK4, ``ode_steps`` steps), for the class's matched prior and for N(0, I).
    """
    from genmod.diffusion import conditional as C
    from genmod.diffusion.likelihood import (
        eq9_bound,
        exact_log_prob,
        gaussian_log_prob,
        vlb_terms,
    )
    from genmod.diffusion.schedules import ExpSchedule

    partition = partition or C.FIVE_REGIONS
    schedule = schedule or ExpSchedule()
    names = class_names or (C.CLASS_NAMES if partition is C.FIVE_REGIONS else None)
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
    return view


class ProbePlot:
    """The probe's figure, built once: the class map (regions filled in their class
    colours), optional training data; each call moves the probe marker (in its class's
    colour) and returns the PNG."""

    def __init__(self, partition, data=None, data_labels=None, lim: float = 2.2, class_names=None):
        from genmod.diffusion import plots_conditional as PC

        self.fig, (ax,) = _figure(1, 1, (4.6, 4.0))
        self.colors = PC.class_colors(partition.n_classes)
        if data is not None:
            PC.scatter_classes(ax, data, data_labels, partition, s=1.0, legend=False)
        PC.draw_partition(ax, partition, fill=True, alpha=0.25)
        self.marker = ax.scatter([0.0], [0.0], s=140, marker="X", edgecolor="k", lw=1.0, zorder=5)
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        self.ax, self.lim, self.names = ax, lim, class_names
        self._first = True

    def __call__(self, view: ProbeView) -> bytes:
        self.marker.set_offsets([[view.x, view.y]])
        self.marker.set_facecolor(self.colors[view.c])
        span = max(self.lim, abs(view.x) + 0.3, abs(view.y) + 0.3)
        self.ax.set_xlim(-span, span)
        self.ax.set_ylim(-span, span)
        self.ax.set_title(
            f"probe ({view.x:.2f}, {view.y:.2f}), class {view.c}: {view.class_name}", fontsize=9
        )
        return _png(self)


def probe_summary(view: ProbeView, names=None) -> str:
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
                "exact log p (PF-ODE, matched prior)",
                f"{view.exact:.4g} ({view.ode_steps} RK4 steps)",
            ),
            ("exact log p (PF-ODE, N(0, I) prior)", f"{view.exact_standard:.4g}"),
        ]
    return _table(rows)


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

    from genmod.diffusion import conditional as C

    partition = partition or C.FIVE_REGIONS
    names = class_names or (C.CLASS_NAMES if partition is C.FIVE_REGIONS else None)
    opts = [(f"{k}: {names[k]}" if names else f"class {k}", k) for k in range(partition.n_classes)]
    slider = dict(min=-2.5, max=2.5, step=0.01, continuous_update=False, readout_format=".2f")
    controls = {
        "x": W.FloatSlider(value=x, description="x", **slider),
        "y": W.FloatSlider(value=y, description="y", **slider),
        "c": W.Dropdown(options=opts, value=int(c), description="class"),
        "exact": W.Checkbox(value=True, description="exact log-likelihood (ODE)"),
    }
    image, summary = W.Image(format="png"), W.HTML()

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


# ======================================================================= attention (section 03)
@dataclass
class PromptForward:
    """One forward pass over a prompt: every block's attention and the next-token log-probs."""

    ids: list[int]
    tokens: list[str]
    attentions: list[torch.Tensor]  # per block, (n_head, T, T)
    log_probs: torch.Tensor  # (T, vocab): log p(next token | tokens[: i + 1])
    cropped: int = 0  # tokens dropped from the front (prompt longer than block_size)


@torch.no_grad()
def prompt_forward(model, prompt: str) -> PromptForward:
    """Tokenise ``prompt`` (GPT-2 BPE; the last ``block_size`` tokens; an empty prompt is
    ``<|endoftext|>``) and run the model once with the attention weights."""
    import torch.nn.functional as F

    from genmod.gpt.tokenizer import EOT_ID, encode, token_strings

    ids = encode(prompt) or [EOT_ID]
    bs = model.config.block_size
    cropped = max(0, len(ids) - bs)
    ids = ids[cropped:]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits, _, atts = model(torch.tensor(ids, device=device)[None], need_weights=True)
    model.train(was_training)
    return PromptForward(
        ids=ids,
        tokens=token_strings(ids),
        attentions=[a[0].float().cpu() for a in atts],
        log_probs=F.log_softmax(logits[0].float(), dim=-1).cpu(),
        cropped=cropped,
    )


@dataclass
class AttentionView:
    tokens: list[str]  # the context tokens 0..query
    block: int  # 0-based block index
    head: int | None  # None: the mean over heads
    query: int  # 0-based query position
    weights: torch.Tensor  # (T, T) the chosen head's (or the mean) attention matrix
    row: list[float]  # weights[query, : query + 1] (sums to 1)
    top: list[tuple[str, float]]  # the k most probable next tokens after position `query`
    next_token: str | None  # the prompt's own next token (None at the last position)
    next_token_prob: float | None
    all_tokens: list[str] = field(default_factory=list)  # every token of the prompt


def attention_view(
    fwd: PromptForward, block: int = -1, head: int | str | None = None, query: int = -1, k: int = 5
) -> AttentionView:
    """Select block, head (None or "mean": ā = 1/H Σ_h A_h, rows still sum to 1) and query
    position (negative: from the end) from a :class:`PromptForward`."""
    from genmod.gpt.tokenizer import token_strings

    L = len(fwd.attentions)
    if not -L <= block < L:
        raise ValueError(f"block={block}: accepted 0–{L - 1} (or negative from the end)")
    att = fwd.attentions[block]
    H, T = att.shape[0], att.shape[-1]
    if head is None or head == "mean":
        w, head = att.mean(0), None
    else:
        head = int(head)
        if not 0 <= head < H:
            raise ValueError(f"head={head}: accepted 0–{H - 1} or 'mean'")
        w = att[head]
    if not -T <= query < T:
        raise ValueError(f"query={query}: the prompt has {T} tokens")
    q = query % T
    lp = fwd.log_probs[q]
    v, i = torch.topk(lp.exp(), min(k, lp.numel()))
    nxt = fwd.ids[q + 1] if q + 1 < T else None
    return AttentionView(
        tokens=fwd.tokens[: q + 1],
        block=block % L,
        head=head,
        query=q,
        weights=w,
        row=w[q, : q + 1].tolist(),
        top=list(zip(token_strings(i.tolist()), v.tolist())),
        next_token=None if nxt is None else fwd.tokens[q + 1],
        next_token_prob=None if nxt is None else float(lp[nxt].exp()),
        all_tokens=list(fwd.tokens),
    )


class AttentionPlot:
    """Heat map of the attention matrix (query rows × key columns, token labels), the query
    row outlined; built once, updated in place."""

    def __init__(self, max_labels: int = 32):
        from matplotlib.patches import Rectangle

        # fixed margins: the token labels change with the prompt
        self.fig, (ax,) = _figure(1, 1, (5.6, 4.8), layout=None)
        self.fig.subplots_adjust(left=0.2, bottom=0.2, right=0.97, top=0.94)
        self.im = ax.imshow(
            np.zeros((1, 1)), cmap="Reds", vmin=0.0, vmax=1.0, interpolation="nearest"
        )
        self.box = Rectangle((-0.5, -0.5), 1, 1, fill=False, ec="C0", lw=1.5)
        ax.add_patch(self.box)
        ax.grid(False)
        ax.set_xlabel("key (attended-to token)")
        ax.set_ylabel("query token")
        self.fig.colorbar(self.im, ax=ax, shrink=0.8, label="attention weight")
        self.ax, self.max_labels = ax, max_labels
        self._first = True

    def __call__(self, view: AttentionView) -> bytes:
        T = view.weights.shape[0]
        self.im.set_data(view.weights.numpy())
        self.im.set_extent((-0.5, T - 0.5, T - 0.5, -0.5))
        self.ax.set_xlim(-0.5, T - 0.5)
        self.ax.set_ylim(T - 0.5, -0.5)
        self.box.set_xy((-0.5, view.query - 0.5))
        self.box.set_width(T)
        labels = [_short(t) for t in view.all_tokens]
        ticks = list(range(0, T, max(1, math.ceil(T / self.max_labels))))
        fs = 7 if len(ticks) <= 20 else 5
        self.ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=90, fontsize=fs)
        self.ax.set_yticks(ticks, [labels[i] for i in ticks], fontsize=fs)
        who = "mean over heads" if view.head is None else f"head {view.head}"
        self.ax.set_title(f"block {view.block}, {who}; query #{view.query}", fontsize=9)
        return _png(self)


def attention_figure(view: AttentionView) -> bytes:
    """PNG of :class:`AttentionPlot` for one view (a fresh figure)."""
    return AttentionPlot()(view)


def attention_summary_html(view: AttentionView) -> str:
    """The query row painted on the tokens, and the top-k next tokens with probabilities."""
    from genmod.gpt.paint import paint_tokens

    who = "mean over heads" if view.head is None else f"head {view.head}"
    mark = view.next_token if view.next_token is not None else f"{view.top[0][0]} (top-1)"
    painted = paint_tokens(
        view.tokens,
        view.row,
        title=f"Attention of token #{view.query} ({_short(view.tokens[-1])!r}), block "
        f"{view.block}, {who}; row sum {sum(view.row):.4f}",
        mark_last=mark,
    )
    rows = "".join(
        f"<tr><td style='font-family:monospace'>{html.escape(repr(t))}</td><td>{p:.4f}</td>"
        f"<td><div style='background:#c33;height:0.8em;width:{max(1, int(120 * p))}px'></div>"
        f"</td></tr>"
        for t, p in view.top
    )
    actual = (
        f"<div>the prompt's next token {html.escape(repr(view.next_token))}: probability "
        f"{view.next_token_prob:.4f}</div>"
        if view.next_token is not None
        else "<div>(last position: the model's prediction for the continuation)</div>"
    )
    top = (
        f"<div style='margin-top:6px;font-weight:bold'>Next token after #{view.query}: top "
        f"{len(view.top)}</div><table>{rows}</table>{actual}"
    )
    return painted + top


def make_attention_explorer(
    model, prompt: str = "Alice was beginning to get very tired of", k: int = 5
) -> Explorer:
    """The attention explorer around a trained :class:`genmod.gpt.model.GPT`.

    Controls: prompt (applied on Enter / leaving the box), block, head (or the mean), query
    position (reset to the last token when the prompt changes), top-k. One forward pass per
    prompt (kept while only block/head/query/k change)."""
    import ipywidgets as W

    cfg = model.config
    cache: dict[str, PromptForward] = {}

    def forward(p: str) -> PromptForward:
        if p not in cache:
            cache.clear()
            cache[p] = prompt_forward(model, p)
        return cache[p]

    n0 = len(forward(prompt).ids)
    controls = {
        "prompt": W.Text(
            value=prompt,
            description="prompt",
            continuous_update=False,
            layout=W.Layout(width="60%"),
        ),
        "block": W.Dropdown(
            options=list(range(cfg.n_layer)), value=cfg.n_layer - 1, description="block"
        ),
        "head": W.Dropdown(
            options=[("mean", "mean")] + [(str(h), h) for h in range(cfg.n_head)],
            value="mean",
            description="head",
        ),
        "query": W.IntSlider(
            value=n0 - 1,
            min=0,
            max=n0 - 1,
            description="query position",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
        "k": W.IntSlider(value=k, min=1, max=20, description="top-k", continuous_update=False),
    }
    painted, image = W.HTML(), W.Image(format="png")

    def compute(prompt, block, head, query, k):
        fwd = forward(prompt)
        return attention_view(fwd, block, head, min(query, len(fwd.ids) - 1), k)

    plot = AttentionPlot()

    def render(view):
        return {"figure": plot(view), "text": attention_summary_html(view)}

    def on_prompt(change):
        # registered before the explorer's own observer: the query is reset to the new last
        # token first, and the prompt change then costs one update, not one per control
        n = len(forward(change["new"]).ids)
        with explorer.hold():
            controls["query"].max = n - 1
            controls["query"].value = n - 1

    controls["prompt"].observe(on_prompt, names="value")
    explorer = Explorer(
        controls,
        compute,
        render,
        {"figure": image, "text": painted},
        body=W.VBox([painted, image]),
        title="Attention explorer (section 03)",
    )
    return explorer


# ======================================================================= widgets plumbing
class Explorer:
    """Controls → compute → render, updated in place on every change.

    ``controls``: name → widget (its ``value`` is passed to ``compute`` under that name);
    ``render(result)`` returns output name → new ``value`` for the widgets in ``outputs``.
    After each update: ``result`` (the compute function's value), ``seconds`` (compute +
    render wall time), ``n_updates``; an exception is shown in the UI and kept in ``error``
    (the widgets keep their previous output). Display with ``display(explorer)`` or as a
    cell's last expression.
    """

    def __init__(
        self,
        controls: dict,
        compute: Callable[..., Any],
        render: Callable[[Any], dict],
        outputs: dict,
        body=None,
        title: str = "",
    ):
        import ipywidgets as W

        self.controls, self.outputs = controls, outputs
        self.compute, self.render = compute, render
        self.result: Any = None
        self.error: str | None = None
        self.seconds: float | None = None
        self.n_updates = 0
        self._held = 0
        self.status = W.HTML()
        box = W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap"))
        head = [W.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        self.ui = W.VBox(head + [box, self.status, body or W.VBox(list(outputs.values()))])
        self._last: dict | None = None
        for w in controls.values():
            w.observe(self.update, names="value")
        self.update()

    def values(self) -> dict:
        return {k: w.value for k, w in self.controls.items()}

    def hold(self):
        """Context manager: changes inside it trigger one update at the end, not one each."""
        explorer = self

        class _Hold:
            def __enter__(self):
                explorer._held += 1

            def __exit__(self, *exc):
                explorer._held -= 1
                if explorer._held == 0:
                    explorer.update()

        return _Hold()

    def update(self, change=None) -> None:
        """Recompute and redraw (skipped while held, or when no value changed since the last
        successful update)."""
        values = self.values()
        if self._held or values == self._last:
            return
        t0 = time.perf_counter()
        try:
            result = self.compute(**values)
            new = self.render(result)
        except Exception as e:  # shown in the UI; a widget callback must not raise
            self.error = f"{type(e).__name__}: {e}"
            self.status.value = f"<span style='color:#b00'>{html.escape(self.error)}</span>"
            return
        for name, value in new.items():
            self.outputs[name].value = value
        self.result, self.error, self._last = result, None, values
        self.seconds = time.perf_counter() - t0
        self.n_updates += 1
        self.status.value = f"<small>updated in {self.seconds:.2f} s</small>"

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)


def _figure(nrows: int, ncols: int, figsize, layout: str | None = "constrained"):
    """A pyplot-free figure (not shown by the inline backend, garbage-collected)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, list(axes.flat)


def _png(plot) -> bytes:
    """Draw a persistent plot: the first time with the constrained layout, which is then
    frozen (the axes keep their positions; later draws skip the layout pass)."""
    png = figure_png(plot.fig)
    if plot._first:
        plot.fig.set_layout_engine("none")
        plot._first = False
    return png


def figure_png(fig, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (for ``widgets.Image``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _short(tok: str, n: int = 12) -> str:
    t = tok.replace("\n", "↵")
    return t if len(t) <= n else t[: n - 1] + "…"


def _table(rows) -> str:
    cells = "".join(
        f"<tr><td style='text-align:left;padding-right:1em'>{k}</td>"
        f"<td style='text-align:left'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"
