"""genmod: a reproducible notebook report on diffusion models and a small GPT-2.

Sub-packages:
- :mod:`genmod.diffusion` — 2D variance-exploding diffusion (data, schedules, denoisers,
  training, samplers, likelihood, metrics, closed-form oracle).
- :mod:`genmod.gpt` — GPT-2 on "Alice in Wonderland" (tokenizer, model, training,
  generation, inversion, attention).
- :mod:`genmod.report` — figure style, results recording and the HTML/PDF build.

Shared plumbing: :mod:`genmod.paths`, :mod:`genmod.io`, :mod:`genmod.cache`,
:mod:`genmod.runtime`, :mod:`genmod.params`.
"""

__version__ = "0.1.0"
