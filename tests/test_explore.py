"""The interactive explorers: their compute functions, and the widgets built
headless (no frontend) on the oracle / a tiny trained denoiser / a tiny random GPT.
(tests/test_browser.py drives them in JupyterLab.)"""

from __future__ import annotations

import ast
import io
import math
import warnings
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from genmod import explore as E
from genmod import style
from genmod.diffusion import conditional as C
from genmod.diffusion import samplers as U
from genmod.diffusion.likelihood import exact_log_prob
from genmod.diffusion.models import DenoiserConfig
from genmod.diffusion.oracle import Oracle
from genmod.diffusion.schedules import ExpSchedule
from genmod.diffusion.train import TrainConfig, train_denoiser
from genmod.explore import attention as EA
from genmod.explore import common as EC
from genmod.explore import probe as EP
from genmod.explore import sampler as ES
from genmod.gpt.model import GPT, GPTConfig
from genmod.gpt.tokenizer import EOT_ID, encode
from genmod.sections.diffusion_conditional.config import FIVE_REGIONS

PNG = b"\x89PNG"


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models on a shared CPU
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def oracle():
    return Oracle()


@pytest.fixture(scope="module")
def class_oracle():
    return C.ClassOracle(FIVE_REGIONS, ExpSchedule())


@pytest.fixture(scope="module")
def cond_model():
    """A tiny class-conditional denoiser trained for a few steps (an nn.Module whose
    parameters do not require grad, as the notebooks' models)."""
    x0, lab = FIVE_REGIONS.sample(300, torch.Generator().manual_seed(0))
    cfg = DenoiserConfig(hidden=32, n_layers=2, n_classes=FIVE_REGIONS.n_classes)
    model, _, _ = train_denoiser(cfg, TrainConfig(epochs=30, lr=3e-3), x0, lab, log=lambda m: None)
    return model


@pytest.fixture(scope="module")
def gpt():
    torch.manual_seed(0)
    return GPT(GPTConfig(block_size=16, n_layer=2, n_head=2, n_embd=32)).eval()


# ----------------------------------------------------------------------- sampler explorer
@pytest.mark.parametrize(
    "sampler, steps, final, nfe",
    [
        ("ddim", 4, False, 4),
        ("euler_sigma", 4, True, 5),
        ("heun", 3, False, 6),
        ("stochastic", 4, False, 4),
    ],
)
def test_sampler_view_counts_evaluations_and_records_paths(oracle, sampler, steps, final, nfe):
    v = E.sampler_view(oracle, sampler=sampler, steps=steps, final_denoise=final, n=50, seed=3)
    assert v.nfe == nfe and v.steps == steps
    assert v.points.shape == (50, 2) and v.paths.shape == (steps + 1, 2, 2)
    assert v.t[0] == 1.0 and v.t[-1] == 0.0 and bool((v.t[1:] < v.t[:-1]).all())
    # the standard prior starts at z = draw_noise(n, seed); paths start there, end at the samples
    torch.testing.assert_close(v.start, U.draw_noise(50, 3))
    torch.testing.assert_close(v.paths[0], v.start[:2])
    torch.testing.assert_close(v.paths[-1], v.points[:2])
    assert set(v.metrics) >= {"inside_fraction", "edge_band", "energy_distance"}


def test_sampler_view_determinism_and_the_stochastic_sampler(oracle):
    kw = dict(steps=5, n=40, seed=1)
    a = E.sampler_view(oracle, **kw)
    assert torch.equal(a.points, E.sampler_view(oracle, **kw).points)  # DDIM is deterministic
    s0 = E.sampler_view(oracle, sampler="stochastic", lam=0.0, **kw)
    torch.testing.assert_close(s0.points, a.points)  # λ = 0 is DDIM
    s1 = E.sampler_view(oracle, sampler="stochastic", lam=1.0, **kw)
    assert torch.equal(
        s1.points, E.sampler_view(oracle, sampler="stochastic", lam=1.0, **kw).points
    )
    assert (s1.points - a.points).abs().max() > 1e-2  # fresh noise at every step
    assert s1.lam == 1.0 and a.lam == 0.0 and "λ = 1" in s1.label


def test_sampler_view_metrics_follow_the_sampler(oracle):
    ev = E.truth_evaluator(400)
    one = E.sampler_view(oracle, steps=1, n=400, evaluate=ev)  # Euler factor 1 − 5 = −4
    good = E.sampler_view(
        oracle,
        sampler="heun",
        grid="karras",
        prior="matched",
        final_denoise=True,
        steps=10,
        n=400,
        evaluate=ev,
    )
    assert one.metrics["inside_fraction"] < 0.5
    assert good.metrics["inside_fraction"] > 0.97
    assert abs(good.metrics["edge_band"] - 0.19) < 0.06
    assert good.metrics["energy_distance"] < 0.1 * one.metrics["energy_distance"]
    # the matched prior starts wider than N(0, I): std √(σ(1)² + 1/3) per coordinate
    wide = E.sampler_view(oracle, prior="matched", steps=1, n=4000)
    assert abs(float(wide.start.std(0).mean()) - math.sqrt(4 / 3)) < 0.05


def test_sampler_view_rejects_unknown_choices(oracle):
    for kw in (dict(sampler="euler"), dict(grid="cosine"), dict(prior="wide"), dict(steps=0)):
        with pytest.raises(ValueError):
            E.sampler_view(oracle, n=10, **kw)


def test_sampler_explorer_headless_updates_in_place(oracle):
    ex = E.make_sampler_explorer(oracle, n=60, steps=5, floor_repeats=5)
    assert ex.error is None and ex.n_updates == 1 and ex.result.nfe == 5
    png0, html0 = bytes(ex.outputs["figure"].value), ex.outputs["summary"].value
    assert png0.startswith(PNG) and "energy distance" in html0
    assert ex.controls["lam"].disabled  # λ only for the stochastic sampler
    ex.controls["steps"].value = 20
    assert ex.n_updates == 2 and ex.result.nfe == 20 and ex.result.steps == 20
    assert bytes(ex.outputs["figure"].value) != png0 and ex.outputs["summary"].value != html0
    ex.controls["sampler"].value = "heun"
    assert ex.result.nfe == 40
    ex.controls["sampler"].value = "stochastic"
    assert not ex.controls["lam"].disabled and ex.result.lam == ex.controls["lam"].value
    n = ex.n_updates
    ex.controls["steps"].value = 20  # unchanged value: no recomputation
    assert ex.n_updates == n
    assert "application/vnd.jupyter.widget-view+json" in ex._repr_mimebundle_()


# ----------------------------------------------------------------------- probability probe
def test_probe_view_with_the_oracle(class_oracle):
    kw = dict(T=1000, n_draws=2048, ode_steps=20)
    inside = E.probe_view(class_oracle, -0.6, 0.3, 0, **kw)
    assert inside.in_region and inside.region_label == 0 and inside.class_name == "L-shape"
    assert inside.truth == pytest.approx(-math.log(FIVE_REGIONS.areas()[0]))
    # the oracle's exact PF-ODE density (matched prior) is close to the truth inside
    assert abs(inside.exact - inside.truth) < 0.2 and math.isfinite(inside.exact_standard)
    assert inside.stderr > 0 and inside.log_prob_bound < inside.exact
    wrong = E.probe_view(class_oracle, -0.6, 0.3, 2, exact=False, **kw)
    assert not wrong.in_region and wrong.truth is None and wrong.region_label == 0
    assert wrong.exact is None and wrong.log_prob_bound < inside.log_prob_bound - 100
    out = E.probe_view(class_oracle, 2.0, 2.0, 4, exact=False, **kw)
    assert out.region_label == -1 and out.truth is None
    with pytest.raises(ValueError):
        E.probe_view(class_oracle, 0.0, 0.0, 5, **kw)


def test_probe_view_same_seed_same_numbers(cond_model):
    a = E.probe_view(cond_model, 0.35, 0.25, 2, T=100, n_draws=512, ode_steps=5)
    b = E.probe_view(cond_model, 0.35, 0.25, 2, T=100, n_draws=512, ode_steps=5)
    assert a == b and math.isfinite(a.exact) and a.ode_steps == 5
    # the N(0, I)-prior value (derived from the same ODE solve) equals a separate solve's
    pt = torch.tensor([[0.35, 0.25]])
    r = exact_log_prob(cond_model, pt, ExpSchedule(), c=2, n_steps=5)
    assert a.exact_standard == pytest.approx(float(r.log_prob[0]), abs=1e-4)
    assert a.exact != pytest.approx(a.exact_standard, abs=1e-3)  # the priors differ


def test_probe_explorer_headless_updates_in_place(cond_model):
    x0, lab = FIVE_REGIONS.sample(100, torch.Generator().manual_seed(1))
    ex = E.make_probe_explorer(
        cond_model, T=100, data=x0, data_labels=lab, n_draws=512, ode_steps=4
    )
    assert ex.error is None and ex.result.c == 0 and ex.result.in_region
    png0, html0 = bytes(ex.outputs["figure"].value), ex.outputs["summary"].value
    assert png0.startswith(PNG) and "Eq. 9" in html0 and "exact log p" in html0
    # the solver is named from its own record (the adaptive solver takes its own steps)
    assert ex.result.solver["method"] in html0 and ex.result.ode_nfe > 0
    assert "output at t = 0" in html0
    ex.controls["c"].value = 2
    assert ex.result.c == 2 and not ex.result.in_region and ex.outputs["summary"].value != html0
    ex.controls["x"].value = 2.0
    assert ex.result.region_label == -1 and bytes(ex.outputs["figure"].value) != png0
    ex.controls["exact"].value = False
    assert ex.result.exact is None and "exact log p" not in ex.outputs["summary"].value


# ----------------------------------------------------------------------- attention explorer
def test_prompt_forward_and_attention_view(gpt):
    prompt = "Alice was beginning to get very tired of sitting"
    fwd = E.prompt_forward(gpt, prompt)
    T = len(fwd.ids)
    assert fwd.ids == encode(prompt) and len(fwd.attentions) == 2 and fwd.cropped == 0
    for att in fwd.attentions:
        assert att.shape == (2, T, T)
        torch.testing.assert_close(att.sum(-1), torch.ones(2, T))  # rows sum to 1
        assert float(att.triu(1).abs().max()) == 0.0  # causal
    mean = E.attention_view(fwd, block=-1, head="mean", query=3, k=4)
    torch.testing.assert_close(mean.weights, fwd.attentions[1].mean(0))
    assert mean.block == 1 and mean.head is None and mean.query == 3
    assert len(mean.row) == 4 == len(mean.tokens) and sum(mean.row) == pytest.approx(1.0, abs=1e-5)
    h1 = E.attention_view(fwd, block=0, head=1, query=-1)
    torch.testing.assert_close(h1.weights, fwd.attentions[0][1])
    assert h1.query == T - 1 and h1.next_token is None and len(h1.all_tokens) == T
    # top-k: the model's own next-token distribution at the query position, sorted
    with torch.no_grad():
        logits, _, _ = gpt(torch.tensor(fwd.ids)[None])
    p = F.softmax(logits[0, 3], -1)
    probs = [q for _, q in mean.top]
    assert probs == sorted(probs, reverse=True) and len(probs) == 4
    assert probs[0] == pytest.approx(float(p.max()), rel=1e-4)
    assert mean.next_token == fwd.tokens[4]
    assert mean.next_token_prob == pytest.approx(float(p[fwd.ids[4]]), rel=1e-4)
    for bad in (dict(block=2), dict(head=2), dict(query=T)):
        with pytest.raises(ValueError):
            E.attention_view(fwd, **bad)


def test_prompt_forward_crops_and_handles_empty(gpt):
    long = " ".join(["rabbit"] * 40)
    fwd = E.prompt_forward(gpt, long)
    assert len(fwd.ids) == 16 and fwd.cropped == len(encode(long)) - 16
    assert E.prompt_forward(gpt, "").ids == [EOT_ID]


def test_attention_explorer_headless_updates_in_place(gpt):
    ex = E.make_attention_explorer(gpt, prompt="The Queen said", k=3)
    n0 = len(encode("The Queen said"))
    assert ex.error is None and ex.result.query == n0 - 1 and len(ex.result.top) == 3
    assert ex.controls["query"].max == n0 - 1 and ex.result.block == 1
    png0, text0 = bytes(ex.outputs["figure"].value), ex.outputs["text"].value
    assert png0.startswith(PNG) and "genmod-paint" in text0
    ex.controls["head"].value = 0
    assert ex.result.head == 0 and bytes(ex.outputs["figure"].value) != png0
    ex.controls["query"].value = 0
    assert ex.result.query == 0 and ex.result.tokens == ex.result.all_tokens[:1]
    n = ex.n_updates
    ex.controls["prompt"].value = "Alice was beginning to get very tired"
    n1 = len(encode("Alice was beginning to get very tired"))
    assert ex.n_updates == n + 1  # one update for a new prompt
    assert ex.controls["query"].max == n1 - 1 and ex.result.query == n1 - 1
    assert len(ex.result.all_tokens) == n1 and ex.outputs["text"].value != text0
    ex.controls["k"].value = 7
    assert len(ex.result.top) == 7


def test_explorer_keeps_output_and_reports_errors():
    import ipywidgets as W

    box = W.IntText(value=1)
    out = W.HTML()

    def compute(v):
        if v < 0:
            raise ValueError("negative")
        return v * 2

    ex = E.Explorer({"v": box}, compute, lambda r: {"o": f"<b>{r}</b>"}, {"o": out})
    assert out.value == "<b>2</b>" and ex.result == 2
    box.value = -1
    assert ex.error == "ValueError: negative" and out.value == "<b>2</b>" and ex.result == 2
    assert "negative" in ex.status.value
    box.value = 5
    assert ex.error is None and out.value == "<b>10</b>"
    with ex.hold():
        box.value = 6
        box.value = 7
        assert ex.result == 10
    assert ex.result == 14 and ex.n_updates == 3


def test_figures_render_fresh(oracle, gpt):
    v = E.sampler_view(oracle, steps=2, n=20, n_traj=0)
    assert E.sampler_figure(v).startswith(PNG)
    fwd = E.prompt_forward(gpt, "Down the rabbit hole")
    assert E.attention_figure(E.attention_view(fwd)).startswith(PNG)
    assert np.isfinite(v.metrics["energy_distance"])


# ----------------------------------------------------------------------- what a user sees
def test_explorer_modules_import_the_science_and_section_configs_only():
    pkg = Path(EC.__file__).parent
    assert {p.stem for p in pkg.glob("*.py")} >= {"sampler", "probe", "attention", "common"}
    for path in pkg.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith("genmod.report"), (path.name, name)
                if name.startswith("genmod.sections"):
                    assert name.endswith(".config"), (path.name, name)
    # the notebooks' imports
    from genmod.explore import (  # noqa: F401
        make_attention_explorer,
        make_probe_explorer,
        make_sampler_explorer,
    )


@pytest.mark.parametrize(
    "tok, shown",
    [
        ("\n", "↵"),
        ("\n\n", "↵↵"),
        (" ", "␣"),
        ("   ", "␣␣␣"),
        ("\t", "⇥"),
        ("\r\n", "␍↵"),
        (" Alice", " Alice"),
        ("said.\n", "said.↵"),
        ("", "∅"),
        ("a\x00", "a\\x00"),
    ],
)
def test_visible_token(tok, shown):
    assert EC.visible_token(tok) == shown


def test_short_token_is_visible_and_cut():
    assert EC.short_token("\n") == "↵"
    assert EC.short_token("x" * 20, n=5) == "xxxx…"


def _attention_view(top, next_token=None):
    w = torch.tensor([[1.0, 0.0], [0.25, 0.75]])
    return EA.AttentionView(
        tokens=["Alice", " said"],
        block=0,
        head=None,
        query=1,
        weights=w,
        row=[0.25, 0.75],
        top=top,
        next_token=next_token,
        next_token_prob=None if next_token is None else 0.1,
        all_tokens=["Alice", " said"] + ([] if next_token is None else [next_token]),
    )


def test_attention_summary_shows_a_newline_top1_token():
    text = EA.attention_summary_html(_attention_view([("\n", 0.6), (" ", 0.3), (" the", 0.1)]))
    assert "→ ↵ (top-1)" in text  # not an invisible "\n (top-1)"
    assert "'↵'" in text and "'␣'" in text and "' the'" in text  # the top-k table
    assert "\n" not in text  # no raw newline left (HTML would collapse it to nothing)
    nxt = EA.attention_summary_html(_attention_view([(" the", 0.9)], next_token="\n"))
    assert "→ ↵</span>" in nxt and "next token '↵'" in nxt


def test_sampler_titles_say_one_step(oracle):
    v = E.sampler_view(oracle, steps=1, n=20, n_traj=1)
    plot = ES.SamplerPlot()
    plot(v)
    assert plot.axes[1].get_title() == "1 trajectory (1 step)"
    assert plot.axes[0].get_title() == "20 samples, 1 network evaluation"
    plot(E.sampler_view(oracle, steps=3, n=20, n_traj=2))
    assert plot.axes[1].get_title() == "2 trajectories (3 steps)"


def test_figures_under_the_notebook_style_warn_nothing(oracle, class_oracle, gpt):
    """The notebook style turns the constrained layout on globally: the attention map, which
    sets its own margins, must not be handed that layout engine (a warning box in JupyterLab
    above the explorer, and margins ignored)."""
    fwd = E.prompt_forward(gpt, "Down the rabbit hole")
    with mpl.rc_context(style.RC), warnings.catch_warnings():
        warnings.simplefilter("error")
        att = EA.AttentionPlot()
        assert att.fig.get_layout_engine() is None  # its own margins, no layout engine
        assert att(E.attention_view(fwd)).startswith(PNG)
        assert att.fig.subplotpars.left == pytest.approx(0.2)
        ex = E.make_attention_explorer(gpt, prompt="The Queen said")
        ex.controls["head"].value = 1
        assert ex.error is None and ex.n_updates == 2
        sp = ES.SamplerPlot()
        assert sp(E.sampler_view(oracle, steps=2, n=20)).startswith(PNG)
        pp = EP.ProbePlot(FIVE_REGIONS)
        assert pp(E.probe_view(class_oracle, 0.1, 0.1, 1, T=10, n_draws=64, exact=False))


def test_images_are_shown_at_their_natural_size(oracle, gpt):
    """The figures' PNGs are drawn at the size they are shown (1 figure inch = 80 px), and
    their widgets are not stretched to the output's width (the browser test measures it)."""
    ex = E.make_attention_explorer(gpt, prompt="The Queen said")
    img = ex.outputs["figure"]
    assert img.layout.align_self == "flex-start" and not img.width and not img.height
    assert EC.png_size(bytes(img.value)) == (448, 384)  # 5.6 × 4.8 in
    ex = E.make_sampler_explorer(oracle, n=30, steps=2, floor_repeats=2)
    assert ex.outputs["figure"].layout.align_self == "flex-start"
    assert EC.png_size(bytes(ex.outputs["figure"].value)) == (560, 264)  # 7 × 3.3 in
    assert ex.status.value == "<small>update #1 in " + f"{ex.seconds:.2f} s</small>"


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_figures_updated_in_place_look_as_drawn_fresh(oracle, class_oracle, gpt):
    """An update redraws only what changes over a stored background: the picture is the one
    a fresh figure draws for the same view."""
    s1 = E.sampler_view(oracle, steps=3, n=50)
    s2 = E.sampler_view(oracle, sampler="euler_sigma", steps=10, n=50, seed=3)
    plot = ES.SamplerPlot()
    plot(s1)
    key = plot._key
    assert np.array_equal(_pixels(plot(s2)), _pixels(ES.SamplerPlot()(s2)))
    assert plot._key == key  # the same axes (the layout is frozen at the first draw)
    fwd = E.prompt_forward(gpt, "Down the rabbit hole")
    a1, a2 = E.attention_view(fwd, head=0), E.attention_view(fwd, head=1, query=2)
    plot = EA.AttentionPlot()
    plot(a1)
    assert np.array_equal(_pixels(plot(a2)), _pixels(EA.AttentionPlot()(a2)))
    a3 = E.attention_view(E.prompt_forward(gpt, "The Queen"))  # new tokens: new axes
    assert np.array_equal(_pixels(plot(a3)), _pixels(EA.AttentionPlot()(a3)))
    kw = dict(T=10, n_draws=64, exact=False)
    p1, p2 = (
        E.probe_view(class_oracle, 0.1, 0.1, 1, **kw),
        E.probe_view(class_oracle, -0.6, 0.3, 0, **kw),
    )
    plot = EP.ProbePlot(FIVE_REGIONS)
    plot(p1)
    assert np.array_equal(_pixels(plot(p2)), _pixels(EP.ProbePlot(FIVE_REGIONS)(p2)))
