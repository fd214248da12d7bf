"""The figures of section 03 (layouts of this section; the drawing is
:mod:`genmod.gpt.plots` and :mod:`genmod.gpt.paint`). Each takes the outcome of a workflow step,
draws from its record and shows."""

from __future__ import annotations

import matplotlib.pyplot as plt

from genmod.gpt.paint import paint_tokens
from genmod.gpt.plots import plot_inversion, plot_losses


def loss(trained) -> None:
    """The training/validation loss curves."""
    t = trained.records["train"]
    lh, c = t["loss_history"], t["config"]
    hist = {**lh, "step_time": lh["step_seconds"]}
    fig, ax = plt.subplots(figsize=(7, 3.8))
    plot_losses(ax, hist, t["best_step"])
    ax.set_title(
        f"{c['n_layer']} layers × {c['n_head']} heads × {c['n_embd']} wide, "
        f"block {c['block_size']}, batch {c['batch_size']}, dropout {c['dropout']}"
    )
    plt.show()


def inversion(inv) -> None:
    """The minimised loss (and its cross-entropy term) and the correct positions per step."""
    r = inv.records["inversion"]
    runs = {}
    for label, x in (("init = embeddings of the shifted sentence", r),
                     ("init = random", r["random_init"])):  # fmt: skip
        runs[label] = {"loss": x["loss_history"], "ce": x["ce_history"],
                       "hinge": x["hinge_history"], "n_correct": x["correct_history"],
                       "steps": x["steps"]}  # fmt: skip
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7, 2.8))
    plot_inversion(a1, a2, runs, len(r["target_ids"]))
    plt.show()


def painted(att, block: str) -> None:
    """The context tokens painted by ``block``'s (``"last_block"``/``"first_block"``)
    attention row, both blocks on one colour scale (HTML)."""
    from IPython.display import HTML, display

    a = att.records["attention"]
    vmax = max(max(a["last_block"]["scores"]), max(a["first_block"]["scores"]))
    title = {"last_block": "Last block", "first_block": "First block"}[block]
    html = paint_tokens(a[block]["tokens"], a[block]["scores"], vmax=vmax,
                        title=f"{title} (head average)", mark_last=a["word12"])  # fmt: skip
    display(HTML(html))
