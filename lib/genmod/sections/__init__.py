"""The sections: what each notebook of the write-up asks, computes and answers.

One sub-package per notebook, each with the same three modules:

- ``config``: the profiles (budgets per ``smoke`` / ``default`` / ``full``), the per-profile
  settings that are not notebook parameters, and the parameter checks;
- ``workflow``: the computations the notebook calls, each returning a plain record (a dict of
  numbers, lists and strings that goes into ``results.json`` as it is);
- ``answers``: one pure function per question id, from the section's results record to
  Markdown. Every claim in an answer is a measured value or a statement chosen by comparing
  measured values; the functions are unit-tested on hand-made records, on both sides of every
  comparison.

``common`` holds what the three share: setting up a run (parameters, device, threads, seeds,
figure style), timing its stages, recording answers and writing ``results.json``.

Imports run downwards: sections use the science (``genmod.diffusion``, ``genmod.gpt``) and the
ground floor; the science never imports a section.
"""
