"""One figure style for every notebook: readable, sharp in HTML and PDF."""

from __future__ import annotations

import matplotlib as mpl

PAGE_WIDTH_IN = 7.0  # figures are sized for an A4/Letter page with margins

RC = {
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "figure.figsize": (PAGE_WIDTH_IN, 4.0),
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 9,
    "axes.titlesize": 10,
    "legend.fontsize": 8,
    "image.cmap": "viridis",
}

#: How a trajectory's start z (t = 1) and its end (t = 0) are marked, in the figures and the
#: sampler explorer alike (keyword arguments of ``Axes.scatter``).
TRAJECTORY_START = {
    "marker": "o",
    "facecolor": "none",
    "edgecolor": "k",
    "s": 30,
    "label": "start z (t = 1)",
    "zorder": 3,
}
TRAJECTORY_END = {"marker": "x", "color": "red", "s": 30, "label": "end (t = 0)", "zorder": 3}


def setup_notebook() -> None:
    """Apply the style and make inline figures high-dpi (retina PNG)."""
    mpl.rcParams.update(RC)
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina")
    except ImportError:  # outside IPython
        pass


def draw_rect(ax, rect, **kw):
    """Draw the outline of ``rect = [xmin, xmax, ymin, ymax]`` on ``ax``."""
    from matplotlib.patches import Rectangle

    x0, x1, y0, y1 = rect
    style = {"fill": False, "edgecolor": "black", "linewidth": 1.0, "linestyle": "--"}
    style.update(kw)
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, **style))


def draw_square(ax, **kw):
    """The true data support [-1, 1]²."""
    draw_rect(ax, (-1.0, 1.0, -1.0, 1.0), **kw)
