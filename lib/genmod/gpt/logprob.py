"""Log-probability of a sentence under the model (A5), in log space throughout.

For tokens ``t_1..t_n`` and an explicit start token ``t_0 = <|endoftext|>``::

    log p(t_1..t_n) = Σ_{i=1}^{n} log p(t_i | t_0..t_{i−1}),
    log p(t_i | ·) = z_{t_i} − logsumexp(z)   (log_softmax of the logits z)

The mean of ``−log p(t_i | ·)`` is exactly the cross-entropy the training and validation
losses average (:func:`genmod.gpt.train.evaluate` on ``[t_0, t_1..t_n]``).
:func:`token_logprobs` scores texts longer than ``block_size`` in consecutive
non-overlapping windows, as the validation loss is; :func:`sliding_token_logprobs`
conditions every token on the ``block_size`` tokens before it, as the sampler does (the two
agree while ``n ≤ block_size``).

:func:`sample_sentence` draws a sentence token by token and stops at a sentence end as the
book writes it (:func:`sentence_end`: ``.``, ``!`` or ``?``, possibly followed by closing
quotes or brackets, then whitespace), within a length bound; it keeps the drawn ids (never
re-tokenised) and, for each, the model's log-probability and the sampling distribution's,
computed while drawing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from genmod.gpt.data import eval_windows
from genmod.gpt.generate import count_words, sampling_probs
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


@torch.no_grad()
def sliding_token_logprobs(
    model: GPT, ids: list[int], start_id: int | None = EOT_ID
) -> list[float]:
    """``log p(t_i | the ≤ block_size tokens before it)`` for each token of ``ids`` (the first
    conditioned on ``start_id``): the contexts the sampler used (float64 log_softmax)."""
    seq = ([start_id] if start_id is not None else []) + list(ids)
    bs = model.config.block_size
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    x = torch.tensor(seq[:-1][:bs], device=device)[None]
    logits, _, _ = model(x)
    lp = F.log_softmax(logits[0].double(), dim=-1)
    out = lp.gather(1, torch.tensor(seq[1 : bs + 1], device=device)[:, None]).squeeze(1).tolist()
    for i in range(bs + 1, len(seq)):  # beyond one window: the last block_size tokens
        logits, _, _ = model(torch.tensor(seq[i - bs : i], device=device)[None])
        out.append(float(F.log_softmax(logits[0, -1].double(), dim=-1)[seq[i]]))
    model.train(was)
    return out


def ids_logprob(model: GPT, ids: list[int], start_id: int = EOT_ID) -> SentenceLogProb:
    """The log-probability of exactly the token ids ``ids`` (no re-tokenisation), each token
    conditioned as the sampler conditioned it (:func:`sliding_token_logprobs`)."""
    if not ids:
        raise ValueError("no tokens to score")
    lps = sliding_token_logprobs(model, list(ids), start_id)
    return SentenceLogProb(
        sentence=decode(ids),
        ids=list(ids),
        tokens=token_strings(ids),
        token_logprobs=lps,
        total=float(sum(lps)),
        start=decode([start_id]),
    )


#: Terminal punctuation, then any closing quotes or brackets, at the end of a text.
SENTENCE_END_RE = re.compile(r"[.!?][\'\"’”)\]]*$")
EOT_STR = "<|endoftext|>"


def sentence_end(tokens: Sequence[str], min_words: int = 0) -> int | None:
    """Where the first sentence of a token stream ends, as the book writes sentence ends.

    ``tokens`` are token strings. The sentence is the first ``k`` tokens when their text has at
    least ``min_words`` words and ends with ``.``, ``!`` or ``?`` possibly followed by closing
    quotes or brackets (``.'``, ``?'``, ``!)``, ``."``), and token ``k + 1`` starts with
    whitespace or is ``<|endoftext|>`` (so a closing quote drawn as a token of its own is part
    of the sentence). Returns ``k``, or ``None`` when no such end is in the stream yet."""
    text = ""
    for k in range(1, len(tokens)):
        text += tokens[k - 1]
        nxt = tokens[k]
        if (nxt == EOT_STR or nxt[:1].isspace()) and SENTENCE_END_RE.search(text):
            if count_words(text) >= min_words:
                return k
    return None


@dataclass
class SampledSentence:
    """A sentence drawn by :func:`sample_sentence`: its token ids exactly as drawn, and for
    each the log-probabilities computed while drawing."""

    ids: list[int]
    text: str  # decode(ids), not stripped
    start: str  # the conditioning start token
    model_logprobs: list[float]  # log p(t_i | ·) under the model (temperature 1, no top-k)
    sample_logprobs: list[float]  # log q(t_i | ·) under the sampling distribution
    stop: str  # "sentence end" | "length bound" | "end-of-text token"
    n_drawn: int  # tokens drawn (the sentence plus the one that showed its end, if any)
    temperature: float
    top_k: int | None
    min_words: int
    max_tokens: int
    next_token: str | None = None  # the drawn token after the sentence (whitespace or EOT)
    cropped: bool = False  # some token was conditioned on fewer tokens than precede it
    draws: int = 1  # the most draws allowed
    earlier_stops: list[str] = field(default_factory=list)  # why each earlier draw was dropped

    @property
    def ended(self) -> bool:
        return self.stop == "sentence end"

    @property
    def draw(self) -> int:
        """Which draw this is (the earlier ones ended no sentence)."""
        return len(self.earlier_stops) + 1


def _draw(model: GPT, g: torch.Generator, temperature, top_k, min_words, max_tokens):
    """One draw from ``<|endoftext|>``: (ids drawn, model log p, sampling log q, stop, k)."""
    device = next(model.parameters()).device
    ids: list[int] = []
    mlp: list[float] = []
    slp: list[float] = []
    bs = model.config.block_size
    for _ in range(max_tokens + 1):
        ctx = torch.tensor(([EOT_ID] + ids)[-bs:], device=device)[None]
        logits, _, _ = model(ctx)
        raw = logits[0, -1].float().cpu()
        probs = sampling_probs(raw, temperature, top_k)
        tok = int(torch.multinomial(probs, 1, generator=g))
        ids.append(tok)
        mlp.append(float(F.log_softmax(raw.double(), dim=-1)[tok]))
        slp.append(float(torch.log(probs[tok].double())))
        end = sentence_end(token_strings(ids), min_words)
        if end is not None:
            return ids, mlp, slp, "sentence end", end
        if tok == EOT_ID:
            return ids, mlp, slp, "end-of-text token", len(ids) - 1
    return ids, mlp, slp, "length bound", max_tokens


@torch.no_grad()
def sample_sentence(
    model: GPT,
    seed: int = 0,
    temperature: float = 0.8,
    top_k: int | None = 40,
    min_words: int = 5,
    max_tokens: int = 48,
    draws: int = 1,
) -> SampledSentence:
    """Sample from ``<|endoftext|>`` until a sentence end (:func:`sentence_end`) after at
    least ``min_words`` words, or ``max_tokens`` tokens (the ``stop`` field says which).

    Up to ``max_tokens + 1`` tokens are drawn: the one after a sentence end shows that the
    end is complete (a closing quote may follow ``.``); it is not part of the sentence. The
    sentence is the drawn ids, and each token's log-probability under the model and under the
    sampling distribution (:func:`genmod.gpt.generate.sampling_probs`) is recorded from the
    very logits it was drawn with.

    ``draws > 1`` draws again (from the same generator) while a draw ends without a sentence
    end, at most ``draws`` times: the first draw that ends a sentence is returned, so the
    sentence is a sample of the sampling distribution conditioned on a sentence ending within
    the bound (``draw`` says which one it was, ``earlier_stops`` why the others were dropped);
    if none does, the last draw is returned with its own ``stop``."""
    if draws < 1:
        raise ValueError(f"draws={draws}: accepted an integer ≥ 1")
    was = model.training
    model.eval()
    g = torch.Generator().manual_seed(seed)
    earlier: list[str] = []
    for d in range(1, draws + 1):
        ids, mlp, slp, stop, k = _draw(model, g, temperature, top_k, min_words, max_tokens)
        if stop == "sentence end" or d == draws:
            break
        earlier.append(stop)
    model.train(was)
    if k == 0:
        raise ValueError("the first token drawn was <|endoftext|>: no sentence")
    return SampledSentence(
        ids=ids[:k],
        text=decode(ids[:k]),
        start=decode([EOT_ID]),
        model_logprobs=mlp[:k],
        sample_logprobs=slp[:k],
        stop=stop,
        n_drawn=len(ids),
        temperature=temperature,
        top_k=top_k,
        min_words=min_words,
        max_tokens=max_tokens,
        next_token=token_strings(ids[k : k + 1])[0] if len(ids) > k else None,
        cropped=k > model.config.block_size,
        draws=draws,
        earlier_stops=earlier,
    )
