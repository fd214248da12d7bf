"""Log-probability of a sentence under the model (A5), in log space throughout.

For tokens ``t_1..t_n`` and an explicit start token ``t_0 = <|endoftext|>``::

    log p(t_1..t_n) = Σ_{i=1}^{n} log p(t_i | t_0..t_{i−1}),
    log p(t_i | ·) = z_{t_i} − logsumexp(z)   (log_softmax of the logits z)

The mean of ``−log p(t_i | ·)`` is exactly the cross-entropy the training and validation
losses average (:func:`genmod.gpt.train.evaluate` on ``[t_0, t_1..t_n]``). Texts longer
than ``block_size`` are scored in consecutive non-overlapping windows, as the validation
loss is.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genmod.gpt.data import eval_windows
from genmod.gpt.model import GPT
from genmod.gpt.tokenizer import EOT_ID, decode, encode, token_strings


@dataclass
class SentenceLogProb:
    sentence: str
    ids: list[int]
    tokens: list[str]
    token_logprobs: list[float]  # log p(t_i | t_<i), natural log
    total: float  # Σ token_logprobs
    start: str  # the conditioning start token

    def table(self) -> str:
        rows = [
            "| i | token | log p(token \\| previous) | p | running sum |",
            "|---:|:---|---:|---:|---:|",
        ]
        run = 0.0
        for i, (t, lp) in enumerate(zip(self.tokens, self.token_logprobs)):
            run += lp
            tt = t.replace("\n", "↵").replace("|", "\\|").replace("`", "'")
            rows.append(
                f"| {i + 1} | `{tt}` | {lp:.4f} | {torch.tensor(lp).exp():.3g} | {run:.4f} |"
            )
        rows.append(f"| | **total** | **{self.total:.4f}** | | |")
        return "\n".join(rows)


@torch.no_grad()
def token_logprobs(model: GPT, ids: list[int], start_id: int | None = EOT_ID) -> list[float]:
    """``log p(t_i | t_<i)`` for each token of ``ids`` (the first conditioned on
    ``start_id``; with ``start_id=None`` the first token is not scored)."""
    seq = ([start_id] if start_id is not None else []) + list(ids)
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    out: list[float] = []
    for x, y in eval_windows(torch.tensor(seq, dtype=torch.long), model.config.block_size):
        logits, _, _ = model(x[None].to(device))
        lp = F.log_softmax(logits[0].double(), dim=-1)
        out.extend(lp.gather(1, y.to(device)[:, None]).squeeze(1).tolist())
    model.train(was)
    return out


def sentence_logprob(model: GPT, sentence: str, start_id: int = EOT_ID) -> SentenceLogProb:
    ids = encode(sentence)
    if not ids:
        raise ValueError("sentence is empty")
    lps = token_logprobs(model, ids, start_id)
    return SentenceLogProb(
        sentence=sentence,
        ids=ids,
        tokens=token_strings(ids),
        token_logprobs=lps,
        total=float(sum(lps)),
        start=decode([start_id]),
    )


SENTENCE_END = (".", "!", "?")


@torch.no_grad()
def sample_sentence(
    model: GPT,
    seed: int = 0,
    temperature: float = 0.8,
    top_k: int | None = 40,
    min_words: int = 5,
    max_tokens: int = 48,
) -> str:
    """Sample from ``<|endoftext|>`` until a sentence end ('.', '!' or '?') after at least
    ``min_words`` words (or ``max_tokens``); the text is returned stripped."""
    from genmod.gpt.generate import count_words

    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    ids: list[int] = []
    bs = model.config.block_size
    for _ in range(max_tokens):
        ctx = torch.tensor(([EOT_ID] + ids)[-bs:], device=device)[None]
        logits, _, _ = model(ctx)
        z = logits[0, -1].float().cpu() / max(temperature, 1e-6)
        if top_k is not None:
            v, _ = torch.topk(z, min(top_k, z.numel()))
            z[z < v[-1]] = -float("inf")
        ids.append(int(torch.multinomial(F.softmax(z, -1), 1, generator=g)))
        text = decode(ids)
        if text.rstrip().endswith(SENTENCE_END) and count_words(text) >= min_words:
            break
    return decode(ids).strip()
