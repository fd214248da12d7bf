"""Tokens painted by a score (A3/A4): inline-styled HTML that keeps its colours in print.

Each token is a ``<span>`` whose background is the score's colour on a sequential colour
map (normalised to ``[0, max score]``), with black or white text by luminance. Every
coloured element carries ``-webkit-print-color-adjust: exact; print-color-adjust: exact``
so Chromium's PDF keeps the backgrounds. A legend bar shows the scale.
"""

from __future__ import annotations

import html

import matplotlib as mpl

PRINT = "-webkit-print-color-adjust:exact;print-color-adjust:exact;"


def _rgb(cmap, x: float) -> tuple[str, str]:
    r, g, b, _ = cmap(min(max(x, 0.0), 1.0))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    fg = "#000" if lum > 0.5 else "#fff"
    return f"rgb({int(r * 255)},{int(g * 255)},{int(b * 255)})", fg


def _visible(tok: str) -> str:
    """Make whitespace in a token visible: spaces as ·-free non-breaking spaces, newlines ↵."""
    t = html.escape(tok)
    return t.replace("\n", "↵").replace(" ", "&nbsp;") or "∅"


def paint_tokens(
    tokens: list[str],
    scores: list[float],
    cmap: str = "Reds",
    vmax: float | None = None,
    title: str | None = None,
    mark_last: str | None = None,
) -> str:
    """HTML: the tokens on coloured backgrounds (score / vmax), then a legend.

    ``mark_last``: an optional label appended after the tokens (e.g. the predicted word),
    drawn with a dashed outline to show where the prediction happens.
    """
    if len(tokens) != len(scores):
        raise ValueError(f"{len(tokens)} tokens but {len(scores)} scores")
    cm = mpl.colormaps[cmap]
    vmax = float(vmax if vmax is not None else max(max(scores), 1e-12))
    parts = []
    for i, (tok, s) in enumerate(zip(tokens, scores)):
        bg, fg = _rgb(cm, s / vmax)
        parts.append(
            f'<span title="#{i}: {s:.4f}" style="background-color:{bg};color:{fg};'
            f"{PRINT}padding:1px 0;border-radius:2px;font-family:monospace;"
            f'font-size:90%;line-height:1.9;">{_visible(tok)}</span>'
        )
    if mark_last:
        parts.append(
            '<span style="border:1px dashed #444;padding:0 3px;margin-left:2px;'
            f'font-family:monospace;font-size:90%;">→ {html.escape(mark_last)}</span>'
        )
    head = (
        f"<div style='font-weight:bold;margin:4px 0;'>{html.escape(title)}</div>" if title else ""
    )
    body = f"<div style='white-space:normal;word-break:break-all;'>{''.join(parts)}</div>"
    return f"<div class='genmod-paint'>{head}{body}{legend(cmap, vmax)}</div>"


def legend(cmap: str = "Reds", vmax: float = 1.0, n: int = 11) -> str:
    """A horizontal colour bar from 0 to ``vmax`` built from spans (prints in colour)."""
    cm = mpl.colormaps[cmap]
    cells = []
    for k in range(n):
        x = k / (n - 1)
        bg, fg = _rgb(cm, x)
        cells.append(
            f'<span style="display:inline-block;width:3.2em;text-align:center;'
            f'background-color:{bg};color:{fg};{PRINT}font-size:75%;">{x * vmax:.3f}</span>'
        )
    return f"<div style='margin-top:4px;font-size:85%;'>attention score: {''.join(cells)}</div>"


def score_table(tokens: list[str], scores: list[float], top: int | None = None) -> str:
    """A Markdown table of the tokens and their scores (all, or the ``top`` largest),
    in text order, with the sum of all scores in the last row."""
    order = list(range(len(tokens)))
    if top is not None and top < len(tokens):
        keep = set(sorted(order, key=lambda i: -scores[i])[:top])
        order = [i for i in order if i in keep]
    rows = ["| # | token | score |", "|---:|:---|---:|"]
    for i in order:
        t = tokens[i].replace("\n", "↵").replace("|", "\\|").replace("`", "'")
        rows.append(f"| {i} | `{t}` | {scores[i]:.4f} |")
    rows.append(f"| | **sum (all {len(tokens)} tokens)** | **{sum(scores):.6f}** |")
    return "\n".join(rows)
