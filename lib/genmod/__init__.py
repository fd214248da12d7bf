"""genmod: a reproducible notebook report on diffusion models and a small GPT-2.

Sub-packages:
- :mod:`genmod.diffusion` — 2D variance-exploding diffusion (data, schedules, denoisers,
  training, samplers, likelihood, metrics, closed-form oracle).
- :mod:`genmod.gpt` — GPT-2 on "Alice in Wonderland" (tokenizer, model, training,
  generation, inversion, attention).
- :mod:`genmod.sections` — one sub-package per notebook: its profiles and parameter checks,
  the computations it calls (returning plain records) and its answers (record → Markdown).
- :mod:`genmod.report` — executes the notebooks (with the section execution cache) and
  renders the HTML and the PDF.
- :mod:`genmod.explore` — the Jupyter explorers.

Ground floor: :mod:`genmod.paths`, :mod:`genmod.io`, :mod:`genmod.cache`,
:mod:`genmod.runtime`, :mod:`genmod.params`, :mod:`genmod.style`.
"""

__version__ = "0.1.0"
