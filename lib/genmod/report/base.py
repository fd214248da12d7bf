"""What every part of the report build shares: the section list, errors, logging."""

from __future__ import annotations

import sys
from pathlib import Path

SECTIONS = ("01_diffusion_unconditional", "02_diffusion_conditional", "03_autoregressive_gpt")
KERNEL_NAME = "genmod"


class ReportError(RuntimeError):
    """A build failure with a one-line message meant for the user."""


class NotebookFailed(ReportError):
    """A notebook raised: names the notebook, the cell and the error."""

    def __init__(self, message: str, notebook: Path, cell_index: int | None = None):
        super().__init__(message)
        self.notebook = notebook
        self.cell_index = cell_index


def log(msg: str) -> None:
    print(msg, flush=True)


def first_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).strip().split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(s, 60)
    return f"{int(m)} min {sec:.0f} s"


def skip_slow_optional_imports() -> None:
    """Call before nbformat is imported in a process of its own (the build, a section worker).

    nbformat imports jsonschema, which builds some forty parsers at import time (about 2.5 s
    of CPU) when the optional rfc3987-syntax is installed, only to check the "iri" string
    format that no notebook schema uses: such a process does without that check.
    """
    sys.modules.setdefault("rfc3987_syntax", None)
