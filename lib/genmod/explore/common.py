"""What the three explorers share: the widget plumbing (:class:`Explorer`), pyplot-free
figures rendered to PNG, the PNG image widget shown at its natural size, small HTML
helpers and the visible rendering of whitespace tokens."""

from __future__ import annotations

import contextlib
import html
import io
import struct
import time
from collections.abc import Callable
from typing import Any

import numpy as np

# ----------------------------------------------------------------------- text helpers
# whitespace characters drawn as visible symbols (a token made only of whitespace would
# otherwise render as nothing)
VISIBLE = {"\n": "↵", "\r": "␍", "\t": "⇥", "\v": "␋", "\f": "␌"}


def visible_token(tok: str) -> str:
    """A token as text a reader can see: newlines ↵, carriage returns ␍, tabs ⇥ (anywhere in
    the token); a token made only of spaces shows them as ␣ (a leading space of a word, as in
    GPT-2's " Alice", stays a space); other invisible characters as their escape; the empty
    token as ∅."""
    if tok == "":
        return "∅"
    if tok.strip(" ") == "":
        return "␣" * len(tok)
    out = []
    for ch in tok:
        if ch in VISIBLE:
            out.append(VISIBLE[ch])
        elif ch != " " and not ch.isprintable():
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def short_token(tok: str, n: int = 12) -> str:
    """:func:`visible_token`, cut to ``n`` characters (…)."""
    t = visible_token(tok)
    return t if len(t) <= n else t[: n - 1] + "…"


def html_table(rows) -> str:
    """Rows of (label, HTML value) as a two-column left-aligned table."""
    cells = "".join(
        f"<tr><td style='text-align:left;padding-right:1em'>{k}</td>"
        f"<td style='text-align:left'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


# ----------------------------------------------------------------------- figures
FIGURE_DPI = 80  # the explorers' PNGs: 1 inch of figure = 80 image pixels = 80 CSS pixels


def new_figure(nrows: int, ncols: int, figsize, layout: str = "constrained"):
    """A pyplot-free figure on an Agg canvas, at :data:`FIGURE_DPI` (not shown by the
    inline backend, garbage-collected).

    ``layout`` is always explicit ("constrained" or "none"): the notebook style turns the
    constrained layout on globally, which would otherwise override a figure that sets its
    own margins with ``subplots_adjust`` (and warn)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=FIGURE_DPI, layout=layout)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, list(axes.flat)


def figure_png(fig, dpi: int = FIGURE_DPI) -> bytes:
    """The figure as PNG bytes (for ``widgets.Image``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def rgba_png(rgba) -> bytes:
    """An (h, w, 4) uint8 RGBA buffer (e.g. an Agg canvas's) as an RGB PNG, quickly encoded
    (little compression: the image only travels to the browser)."""
    from PIL import Image

    arr = np.asarray(rgba)
    img = Image.frombuffer("RGBA", (arr.shape[1], arr.shape[0]), arr.tobytes(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", png[16:24])


class PersistentPlot:
    """A figure built once (by a subclass, on :func:`new_figure`) and updated in place.

    Only the artists in ``self.dynamic`` change between updates (data, titles, markers, and
    whatever must stay drawn above them, such as a legend): :meth:`png` draws the rest of
    the figure once into a background, and later restores it and draws only those artists
    (blitting), unless ``key`` (what the background depends on: axis limits, tick labels)
    has changed. The first draw lays the figure out (constrained layout, titles included),
    which is then frozen: the axes keep their positions."""

    fig: Any
    dynamic: tuple = ()
    _first: bool = True
    _key: Any = None
    _background: Any = None

    def png(self, key: Any = None) -> bytes:
        canvas = self.fig.canvas
        if self._first:
            canvas.draw()  # with the layout engine, every artist visible
            self.fig.set_layout_engine("none")
            self._first, self._background = False, None
        if self._background is None or key != self._key:
            with _hidden(self.dynamic):
                canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._key = key
        else:
            canvas.restore_region(self._background)
        for a in self.dynamic:
            self.fig.draw_artist(a)
        return rgba_png(canvas.buffer_rgba())


@contextlib.contextmanager
def _hidden(artists):
    """Artists left out of a draw. A text is made transparent rather than invisible: an
    invisible title has no extent, and the axes would move it out of the figure."""
    from matplotlib.text import Text

    saved = [a.get_alpha() if isinstance(a, Text) else a.get_visible() for a in artists]
    for a in artists:
        if isinstance(a, Text):
            a.set_alpha(0.0)
        else:
            a.set_visible(False)
    try:
        yield
    finally:
        for a, v in zip(artists, saved):
            if isinstance(a, Text):
                a.set_alpha(v)
            else:
                a.set_visible(v)


def png_image():
    """A PNG ``widgets.Image`` that is shown at its natural size.

    In JupyterLab a widget inside a ``VBox`` is stretched across the output's width
    (``align-items: stretch``), and an image's height follows: the figure's pixels would be
    scaled up (blurry text, a taller plot). Aligned to the start it keeps its own width, and
    ``max-width: 100%`` (ipywidgets' default) still shrinks it in a narrow window."""
    import ipywidgets as W

    return W.Image(format="png", layout=W.Layout(align_self="flex-start"))


# ----------------------------------------------------------------------- widgets plumbing
class Explorer:
    """Controls → compute → render, updated in place on every change.

    ``controls``: name → widget (its ``value`` is passed to ``compute`` under that name);
    ``render(result)`` returns output name → new ``value`` for the widgets in ``outputs``.
    After each update: ``result`` (the compute function's value), ``seconds`` (compute +
    render wall time), ``n_updates``; the status line reads "update #n in s.ss s". An
    exception is shown in the UI and kept in ``error`` (the widgets keep their previous
    output). Display with ``display(explorer)`` or as a cell's last expression.
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
        self.status.add_class("genmod-explorer-status")
        box = W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap"))
        head = [W.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        self.ui = W.VBox(head + [box, self.status, body or W.VBox(list(outputs.values()))])
        self.ui.add_class("genmod-explorer")
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
        self.status.value = f"<small>update #{self.n_updates} in {self.seconds:.2f} s</small>"

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)
