"""Results recording: the machine-readable record of a notebook run (results.json).

A notebook builds one :class:`Results`, fills it as it goes, renders each answer from the
measured values with :meth:`Results.answer` (which also displays it as Markdown) and writes
it once at the end, atomically.
"""

from __future__ import annotations

import os
from typing import Any

from genmod.io import atomic_write_json
from genmod.paths import resolve_path


class Results(dict):
    """A dict with the common keys of DESIGN.md (section, params, runtime, answers)."""

    def __init__(self, section: str, params: dict, runtime: dict | None = None):
        super().__init__(section=section, params=dict(params), runtime=dict(runtime or {}))
        self["answers"] = {}

    def answer(self, qid: str, text: str, display: bool = True) -> str:
        """Record the rendered answer for question ``qid`` and show it as Markdown."""
        self["answers"][qid] = text
        if display:
            _display_markdown(text)
        return text

    def write(self, path: str | os.PathLike) -> os.PathLike:
        return atomic_write_json(resolve_path(path), self)


def answer(text: str) -> None:
    """Display Markdown text (a rendered sentence) in the notebook."""
    _display_markdown(text)


def _display_markdown(text: str) -> Any:
    try:
        from IPython.display import Markdown, display
    except ImportError:  # plain Python: print instead
        print(text)
        return None
    display(Markdown(text))
