"""What of an executed notebook reaches the write-up: nbconvert preprocessors, in order.

1. ``TagRemovePreprocessor`` (nbconvert): cells tagged ``parameters``, ``injected-parameters``,
   ``interactive`` or ``remove-cell`` are left out.
2. :class:`UnshownOutputs`: stderr (warnings, logging) and widget views are left out. This is
   a choice of medium, not a repair: a static page cannot run a widget, and the write-up shows
   what a cell computed, not what it logged.
3. ``CoalesceStreamsPreprocessor`` (nbconvert): consecutive stdout chunks are merged and
   carriage-return redraws resolve to their last state.
4. :class:`EmptyCells`: a code cell with nothing left to show, a blank stdout chunk or a
   blank Markdown cell adds nothing to the page and is left out.

Nothing else is filtered. The other residue the write-up once had to strip is fixed where it
came from: ``run.answer``, ``common.show`` and ``run.finish`` return None, so no returned
string repeats an answer and no object repr is echoed; and the notebooks run with ``TQDM_DISABLE=1`` (:mod:`genmod.report.execute`), so no
text progress bar is drawn into stdout (a notebook progress bar is a widget view, see 2).
"""

from __future__ import annotations

import copy

from nbconvert.preprocessors import (
    CoalesceStreamsPreprocessor,
    Preprocessor,
    TagRemovePreprocessor,
)

#: Cells with one of these tags never reach the write-up.
REMOVE_TAGS = frozenset(
    {"interactive", "parameters", "injected-parameters", "remove-cell", "remove_cell"}
)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class UnshownOutputs(Preprocessor):
    """Drop stderr streams and widget views, and the notebook's saved widget state."""

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = [
                out
                for out in cell.get("outputs", [])
                if not (out.output_type == "stream" and out.get("name") == "stderr")
                and WIDGET_VIEW not in out.get("data", {})
            ]
        return cell, resources


class EmptyCells(Preprocessor):
    """Drop blank stdout chunks, then every cell that shows nothing."""

    def preprocess(self, nb, resources):
        cells = []
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [
                    out
                    for out in cell.get("outputs", [])
                    if out.output_type != "stream" or out.get("text", "").strip()
                ]
                if not cell.outputs:
                    continue
            elif cell.cell_type == "markdown" and not cell.source.strip():
                continue
            cells.append(cell)
        nb.cells = cells
        return nb, resources


def writeup_preprocessors() -> list[Preprocessor]:
    """The preprocessors, in the order they run (see the module docstring)."""
    return [
        TagRemovePreprocessor(remove_cell_tags=set(REMOVE_TAGS)),
        UnshownOutputs(),
        CoalesceStreamsPreprocessor(),
        EmptyCells(),
    ]


def clean_notebook(nb):
    """A copy of ``nb`` holding only what the write-up shows (what the exporter sees)."""
    nb = copy.deepcopy(nb)
    resources: dict = {}
    for pre in writeup_preprocessors():
        nb, resources = pre.preprocess(nb, resources)
    return nb
