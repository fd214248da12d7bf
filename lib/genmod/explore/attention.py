"""The attention explorer (section 03): what the trained GPT attends to, and what it predicts.

Compute: :func:`prompt_forward` — one forward pass over a prompt gives every block's
attention weights A = softmax(QKᵀ/√d + M) (per head) and the next-token distribution at
every position; :func:`attention_view` selects a block, a head (or the head average) and a
query position: the row of A painted on the tokens, the whole matrix, and the top-k next
tokens with their probabilities.

Render: :class:`AttentionPlot` (the heat map), :func:`attention_summary_html` (the painted
row, :func:`genmod.gpt.paint.paint_tokens`, and the top-k; whitespace tokens are drawn
visibly, a newline as ↵). UI: :func:`make_attention_explorer`.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from genmod.explore.common import (
    Explorer,
    PersistentPlot,
    new_figure,
    png_image,
    short_token,
    visible_token,
)


@dataclass
class PromptForward:
    """One forward pass over a prompt: every block's attention and the next-token log-probs."""

    ids: list[int]
    tokens: list[str]
    attentions: list[torch.Tensor]  # per block, (n_head, T, T)
    log_probs: torch.Tensor  # (T, vocab): log p(next token | tokens[: i + 1])
    cropped: int = 0  # tokens dropped from the front (prompt longer than block_size)


@torch.no_grad()
def prompt_forward(model, prompt: str) -> PromptForward:
    """Tokenise ``prompt`` (GPT-2 BPE; the last ``block_size`` tokens; an empty prompt is
    ``<|endoftext|>``) and run the model once with the attention weights."""
    import torch.nn.functional as F

    from genmod.gpt.tokenizer import EOT_ID, encode, token_strings

    ids = encode(prompt) or [EOT_ID]
    bs = model.config.block_size
    cropped = max(0, len(ids) - bs)
    ids = ids[cropped:]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits, _, atts = model(torch.tensor(ids, device=device)[None], need_weights=True)
    model.train(was_training)
    return PromptForward(
        ids=ids,
        tokens=token_strings(ids),
        attentions=[a[0].float().cpu() for a in atts],
        log_probs=F.log_softmax(logits[0].float(), dim=-1).cpu(),
        cropped=cropped,
    )


@dataclass
class AttentionView:
    tokens: list[str]  # the context tokens 0..query
    block: int  # 0-based block index
    head: int | None  # None: the mean over heads
    query: int  # 0-based query position
    weights: torch.Tensor  # (T, T) the chosen head's (or the mean) attention matrix
    row: list[float]  # weights[query, : query + 1] (sums to 1)
    top: list[tuple[str, float]]  # the k most probable next tokens after position `query`
    next_token: str | None  # the prompt's own next token (None at the last position)
    next_token_prob: float | None
    all_tokens: list[str] = field(default_factory=list)  # every token of the prompt


def attention_view(
    fwd: PromptForward, block: int = -1, head: int | str | None = None, query: int = -1, k: int = 5
) -> AttentionView:
    """Select block, head (None or "mean": ā = 1/H Σ_h A_h, rows still sum to 1) and query
    position (negative: from the end) from a :class:`PromptForward`."""
    from genmod.gpt.tokenizer import token_strings

    L = len(fwd.attentions)
    if not -L <= block < L:
        raise ValueError(f"block={block}: accepted 0–{L - 1} (or negative from the end)")
    att = fwd.attentions[block]
    H, T = att.shape[0], att.shape[-1]
    if head is None or head == "mean":
        w, head = att.mean(0), None
    else:
        head = int(head)
        if not 0 <= head < H:
            raise ValueError(f"head={head}: accepted 0–{H - 1} or 'mean'")
        w = att[head]
    if not -T <= query < T:
        raise ValueError(f"query={query}: the prompt has {T} tokens")
    q = query % T
    lp = fwd.log_probs[q]
    v, i = torch.topk(lp.exp(), min(k, lp.numel()))
    nxt = fwd.ids[q + 1] if q + 1 < T else None
    return AttentionView(
        tokens=fwd.tokens[: q + 1],
        block=block % L,
        head=head,
        query=q,
        weights=w,
        row=w[q, : q + 1].tolist(),
        top=list(zip(token_strings(i.tolist()), v.tolist())),
        next_token=None if nxt is None else fwd.tokens[q + 1],
        next_token_prob=None if nxt is None else float(lp[nxt].exp()),
        all_tokens=list(fwd.tokens),
    )


class AttentionPlot(PersistentPlot):
    """Heat map of the attention matrix (query rows × key columns, token labels), the query
    row outlined; built once, updated in place."""

    def __init__(self, max_labels: int = 32):
        from matplotlib.patches import Rectangle

        # fixed margins: the token labels change with the prompt
        self.fig, (ax,) = new_figure(1, 1, (5.6, 4.8), layout="none")
        self.fig.subplots_adjust(left=0.2, bottom=0.2, right=0.97, top=0.94)
        self.im = ax.imshow(
            np.zeros((1, 1)), cmap="Reds", vmin=0.0, vmax=1.0, interpolation="nearest"
        )
        self.box = Rectangle((-0.5, -0.5), 1, 1, fill=False, ec="C0", lw=1.5)
        ax.add_patch(self.box)
        ax.grid(False)
        ax.set_xlabel("key (attended-to token)")
        ax.set_ylabel("query token")
        self.fig.colorbar(self.im, ax=ax, shrink=0.8, label="attention weight")
        self.ax, self.max_labels = ax, max_labels
        # redrawn at every update, in the order of their z-order
        self.dynamic = (self.im, self.box, *ax.spines.values(), ax.title)

    def __call__(self, view: AttentionView) -> bytes:
        T = view.weights.shape[0]
        key = tuple(view.all_tokens)  # the axes and their token labels follow the prompt
        if key != self._key:
            self.im.set_extent((-0.5, T - 0.5, T - 0.5, -0.5))
            self.ax.set_xlim(-0.5, T - 0.5)
            self.ax.set_ylim(T - 0.5, -0.5)
            labels = [short_token(t) for t in view.all_tokens]
            ticks = list(range(0, T, max(1, math.ceil(T / self.max_labels))))
            fs = 7 if len(ticks) <= 20 else 5
            self.ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=90, fontsize=fs)
            self.ax.set_yticks(ticks, [labels[i] for i in ticks], fontsize=fs)
        self.im.set_data(view.weights.numpy())
        self.box.set_xy((-0.5, view.query - 0.5))
        self.box.set_width(T)
        who = "mean over heads" if view.head is None else f"head {view.head}"
        self.ax.set_title(f"block {view.block}, {who}; query #{view.query}", fontsize=9)
        return self.png(key=key)


def attention_figure(view: AttentionView) -> bytes:
    """PNG of :class:`AttentionPlot` for one view (a fresh figure)."""
    return AttentionPlot()(view)


def attention_summary_html(view: AttentionView) -> str:
    """The query row painted on the tokens, and the top-k next tokens with probabilities.

    Tokens are shown with :func:`~genmod.explore.common.visible_token` (a newline as ↵, a
    whitespace-only token as ␣…), so that a predicted newline is seen."""
    from genmod.gpt.paint import paint_tokens

    who = "mean over heads" if view.head is None else f"head {view.head}"
    mark = (
        visible_token(view.next_token)
        if view.next_token is not None
        else f"{visible_token(view.top[0][0])} (top-1)"
    )
    painted = paint_tokens(
        view.tokens,
        view.row,
        title=f"Attention of token #{view.query} ('{short_token(view.tokens[-1])}'), block "
        f"{view.block}, {who}; row sum {sum(view.row):.4f}",
        mark_last=mark,
    )
    rows = "".join(
        f"<tr><td style='font-family:monospace;white-space:pre'>"
        f"'{html.escape(visible_token(t))}'</td><td>{p:.4f}</td>"
        f"<td><div style='background:#c33;height:0.8em;width:{max(1, int(120 * p))}px'></div>"
        f"</td></tr>"
        for t, p in view.top
    )
    actual = (
        f"<div>the prompt's next token '{html.escape(visible_token(view.next_token))}': "
        f"probability "
        f"{view.next_token_prob:.4f}</div>"
        if view.next_token is not None
        else "<div>(last position: the model's prediction for the continuation)</div>"
    )
    top = (
        f"<div style='margin-top:6px;font-weight:bold'>Next token after #{view.query}: top "
        f"{len(view.top)}</div><table>{rows}</table>{actual}"
    )
    return painted + top


def make_attention_explorer(
    model, prompt: str = "Alice was beginning to get very tired of", k: int = 5
) -> Explorer:
    """The attention explorer around a trained :class:`genmod.gpt.model.GPT`.

    Controls: prompt (applied on Enter / leaving the box), block, head (or the mean), query
    position (reset to the last token when the prompt changes), top-k. One forward pass per
    prompt (kept while only block/head/query/k change)."""
    import ipywidgets as W

    cfg = model.config
    cache: dict[str, PromptForward] = {}

    def forward(p: str) -> PromptForward:
        if p not in cache:
            cache.clear()
            cache[p] = prompt_forward(model, p)
        return cache[p]

    n0 = len(forward(prompt).ids)
    controls = {
        "prompt": W.Text(
            value=prompt,
            description="prompt",
            continuous_update=False,
            layout=W.Layout(width="60%"),
        ),
        "block": W.Dropdown(
            options=list(range(cfg.n_layer)), value=cfg.n_layer - 1, description="block"
        ),
        "head": W.Dropdown(
            options=[("mean", "mean")] + [(str(h), h) for h in range(cfg.n_head)],
            value="mean",
            description="head",
        ),
        "query": W.IntSlider(
            value=n0 - 1,
            min=0,
            max=n0 - 1,
            description="query position",
            continuous_update=False,
            style={"description_width": "initial"},
        ),
        "k": W.IntSlider(value=k, min=1, max=20, description="top-k", continuous_update=False),
    }
    painted, image = W.HTML(), png_image()

    def compute(prompt, block, head, query, k):
        fwd = forward(prompt)
        return attention_view(fwd, block, head, min(query, len(fwd.ids) - 1), k)

    plot = AttentionPlot()

    def render(view):
        return {"figure": plot(view), "text": attention_summary_html(view)}

    def on_prompt(change):
        # registered before the explorer's own observer: the query is reset to the new last
        # token first, and the prompt change then costs one update, not one per control
        n = len(forward(change["new"]).ids)
        with explorer.hold():
            controls["query"].max = n - 1
            controls["query"].value = n - 1

    controls["prompt"].observe(on_prompt, names="value")
    explorer = Explorer(
        controls,
        compute,
        render,
        {"figure": image, "text": painted},
        body=W.VBox([painted, image]),
        title="Attention explorer (section 03)",
    )
    return explorer
