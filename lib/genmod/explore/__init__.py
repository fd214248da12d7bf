"""Interactive explorers for JupyterLab: three ipywidgets UIs around models a notebook has
already trained (changing a control re-runs only the explorer's compute, never training).

Each explorer is one module: its pure compute function (tested directly, no widgets), the
rendering of its result (a figure updated in place, an HTML summary) and a thin
``make_*_explorer(model, ...)`` that wires controls to them:

- :mod:`genmod.explore.sampler` — the **sampler explorer** (section 01):
  :func:`~genmod.explore.sampler.sampler_view`, :func:`make_sampler_explorer`;
- :mod:`genmod.explore.probe` — the **probability probe** (section 02):
  :func:`~genmod.explore.probe.probe_view`, :func:`make_probe_explorer`;
- :mod:`genmod.explore.attention` — the **attention explorer** (section 03):
  :func:`~genmod.explore.attention.prompt_forward`,
  :func:`~genmod.explore.attention.attention_view`, :func:`make_attention_explorer`;
- :mod:`genmod.explore.common` — what they share: :class:`~genmod.explore.common.Explorer`
  (controls → compute → render, the widgets updated in place), pyplot-free figures drawn
  to PNG and shown at their natural size, the visible rendering of whitespace tokens.

The explorers import the science (:mod:`genmod.diffusion`, :mod:`genmod.gpt`) and the
sections' configuration, never the report. ipywidgets is imported only when a UI is built.
"""

from genmod.explore.attention import (
    AttentionView,
    PromptForward,
    attention_figure,
    attention_summary_html,
    attention_view,
    make_attention_explorer,
    prompt_forward,
)
from genmod.explore.common import Explorer, visible_token
from genmod.explore.probe import ProbeView, make_probe_explorer, probe_summary, probe_view
from genmod.explore.sampler import (
    SamplerView,
    make_sampler_explorer,
    sampler_figure,
    sampler_summary,
    sampler_view,
    truth_evaluator,
)

__all__ = [
    "AttentionView",
    "Explorer",
    "ProbeView",
    "PromptForward",
    "SamplerView",
    "attention_figure",
    "attention_summary_html",
    "attention_view",
    "make_attention_explorer",
    "make_probe_explorer",
    "make_sampler_explorer",
    "probe_summary",
    "probe_view",
    "prompt_forward",
    "sampler_figure",
    "sampler_summary",
    "sampler_view",
    "truth_evaluator",
    "visible_token",
]
