"""Sampling from the model and the attention rows of A3/A4.

- :func:`sampling_probs` — the distribution a token is drawn from: ``softmax(z / T)``
  restricted to the ``top_k`` largest logits.
- :func:`sample` — temperature / top-k sampling, token by token (context cropped to
  ``block_size``), until the text holds at least ``min_words`` complete words; it records,
  for every drawn token, its probability under the sampling distribution and under the
  model's own distribution (``softmax(z)``: temperature 1, no top-k).
- :func:`word_spans` / :func:`word_token_indices` — which tokens make up word k.
- :func:`attention_row` — at the prediction of token ``p`` (query position ``p − 1``) the
  head-averaged attention of one block, ``ā_j = 1/H Σ_h softmax(q_h k_hᵀ/√d)_{p−1, j}`` for
  ``j = 0..p−1``; each head's row sums to 1, so ``Σ_j ā_j = 1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from genmod.gpt.model import GPT
from genmod.gpt.tokenizer import EOT_ID, decode, encode, get_encoding, token_strings

#: A word: letters/digits, with inner apostrophes or hyphens ("don't", "rabbit-hole").
WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` of the words of ``text``."""
    return [m.span() for m in WORD_RE.finditer(text)]


def count_words(text: str) -> int:
    return len(word_spans(text))


def token_char_spans(ids) -> list[tuple[int, int]]:
    """Character span of each token in ``decode(ids)`` (multi-byte characters split across
    tokens are assigned to the token holding their first byte)."""
    enc = get_encoding()
    spans, nbytes = [], 0
    text = decode(ids)
    raw = text.encode("utf-8")
    # byte offset -> char offset
    byte_to_char = []
    for ci, ch in enumerate(text):
        byte_to_char.extend([ci] * len(ch.encode("utf-8")))
    byte_to_char.append(len(text))
    if len(byte_to_char) - 1 != len(raw):  # invalid UTF-8 replaced: fall back to lengths
        pos = 0
        for s in token_strings(ids):
            spans.append((pos, pos + len(s)))
            pos += len(s)
        return spans
    for i in ids:
        b = len(enc.decode_single_token_bytes(int(i)))
        spans.append((byte_to_char[nbytes], byte_to_char[nbytes + b]))
        nbytes += b
    return spans


def word_token_indices(ids, k: int) -> list[int]:
    """Indices of the tokens overlapping the ``k``-th word (1-based) of ``decode(ids)``."""
    words = word_spans(decode(ids))
    if not 1 <= k <= len(words):
        raise ValueError(f"word {k} requested but the text has {len(words)} words")
    ws, we = words[k - 1]
    return [i for i, (s, e) in enumerate(token_char_spans(ids)) if s < we and e > ws]


def sampling_probs(logits: torch.Tensor, temperature: float, top_k: int | None) -> torch.Tensor:
    """``softmax(z / T)`` over the ``top_k`` largest logits of the 1-d ``logits`` (float32)."""
    z = logits.float().cpu() / max(temperature, 1e-6)
    if top_k is not None:
        v, _ = torch.topk(z, min(top_k, z.numel()))
        z[z < v[-1]] = -float("inf")
    return F.softmax(z, dim=-1)


@dataclass
class Generation:
    ids: list[int]  # prompt + generated tokens
    n_prompt: int  # how many of them are the prompt
    text: str
    # per generated token: its probability under the sampling distribution (temperature,
    # top-k) and under the model's own distribution (temperature 1, no top-k)
    sample_probs: list[float] = field(default_factory=list)
    model_probs: list[float] = field(default_factory=list)
    temperature: float = 1.0
    top_k: int | None = None
    max_new_tokens: int = 0
    reached_min_words: bool = True  # False: max_new_tokens came first


@torch.no_grad()
def sample(
    model: GPT,
    prompt: str,
    min_words: int = 12,
    temperature: float = 0.8,
    top_k: int | None = 40,
    max_new_tokens: int = 200,
    seed: int = 0,
) -> Generation:
    """Sample after ``prompt`` until the text has ``min_words`` complete words (the
    ``min_words``-th word is followed by a non-word character).

    Next-token distribution: :func:`sampling_probs` (``softmax(logits / temperature)``
    restricted to the ``top_k`` largest logits). An empty prompt starts from
    ``<|endoftext|>`` (not part of the text). At most ``max_new_tokens`` are drawn;
    ``reached_min_words`` says whether the words came first.
    """
    device = next(model.parameters()).device
    g = torch.Generator(device="cpu").manual_seed(seed)
    ids = encode(prompt)
    start = [EOT_ID] if not ids else []
    n_prompt = len(ids)
    bs = model.config.block_size
    gen = Generation(
        ids=ids, n_prompt=n_prompt, text="", temperature=temperature, top_k=top_k,
        max_new_tokens=max_new_tokens, reached_min_words=False,
    )  # fmt: skip

    def enough() -> bool:
        text = decode(ids)
        spans = word_spans(text)
        return len(spans) > min_words or (len(spans) == min_words and spans[-1][1] < len(text))

    for _ in range(max_new_tokens):
        if enough():
            break
        ctx = torch.tensor((start + ids)[-bs:], device=device)[None]
        logits, _, _ = model(ctx)
        raw = logits[0, -1].float().cpu()
        probs = sampling_probs(raw, temperature, top_k)
        tok = int(torch.multinomial(probs, 1, generator=g))
        ids.append(tok)
        gen.sample_probs.append(float(probs[tok]))
        gen.model_probs.append(float(F.softmax(raw, dim=-1)[tok]))
    gen.reached_min_words = enough()
    gen.text = decode(ids)
    return gen


@torch.no_grad()
def attention_maps(model: GPT, ids) -> list[torch.Tensor]:
    """Per block, the (n_head, T, T) attention weights for the token sequence ``ids``."""
    device = next(model.parameters()).device
    model.eval()
    _, atts = model.hidden(torch.tensor(list(ids), device=device)[None], need_weights=True)
    return [a[0].cpu() for a in atts]


def attention_row(model: GPT, ids, predict_index: int, block: int) -> torch.Tensor:
    """Head-averaged attention of ``block`` (0 = first, -1 = last) from the query that
    predicts token ``predict_index``, over the tokens ``ids[:predict_index]``."""
    if not 1 <= predict_index < len(ids) + 1:
        raise ValueError(f"predict_index={predict_index} out of range 1..{len(ids)}")
    ctx = list(ids[:predict_index])[-model.config.block_size :]
    att = attention_maps(model, ctx)[block]  # (H, T, T)
    return att.mean(0)[-1]  # the last query row


@dataclass
class AttentionStudy:
    text: str
    ids: list[int]
    tokens: list[str]  # token strings of the context (tokens before the 12th word)
    word11: str
    word12: str
    word11_tokens: list[int]
    word12_tokens: list[int]
    predict_index: int  # index of the 12th word's first token
    last_block: list[float]
    first_block: list[float]
    next_token_top: list[tuple[str, float]]  # model's top next tokens at that point
    word11_top: list[tuple[str, float]]  # ... and at the prediction of the 11th word
    word11_prob: float  # the 11th word's first token under the model (temperature 1)
    # ... and under the distribution it was sampled from (temperature, top-k), with that
    # distribution's top tokens
    word11_sample_prob: float | None = None
    word11_sample_top: list[tuple[str, float]] = field(default_factory=list)
    context_start: int = 0  # index of the first token the row attends to (block_size crop)


@torch.no_grad()
def top_next(
    model: GPT, ids, k: int = 5, temperature: float | None = None, top_k: int | None = None
) -> list[tuple[str, float]]:
    """The ``k`` most probable next tokens: under the model's own distribution, or (with a
    ``temperature``) under the sampling distribution :func:`sampling_probs`."""
    device = next(model.parameters()).device
    ctx = torch.tensor(list(ids)[-model.config.block_size :], device=device)[None]
    logits, _, _ = model(ctx)
    if temperature is None:
        p = F.softmax(logits[0, -1].float(), dim=-1).cpu()
    else:
        p = sampling_probs(logits[0, -1], temperature, top_k)
    v, i = torch.topk(p, k)
    return [(s, float(x)) for s, x in zip(token_strings(i.tolist()), v.tolist())]


@torch.no_grad()
def next_prob(model: GPT, ids, token: int) -> float:
    device = next(model.parameters()).device
    ctx = torch.tensor(list(ids)[-model.config.block_size :], device=device)[None]
    logits, _, _ = model(ctx)
    return float(F.softmax(logits[0, -1].float(), dim=-1)[token])


def attention_study(model: GPT, gen: Generation, word_a: int = 11, word_b: int = 12):
    """A3/A4 for one generation: tokens of words ``word_a``/``word_b`` and the last and
    first blocks' head-averaged attention rows at the prediction of word_b's first token."""
    ids = gen.ids
    text = decode(ids)
    spans = word_spans(text)
    ta = word_token_indices(ids, word_a)
    tb = word_token_indices(ids, word_b)
    if ta[0] < gen.n_prompt or tb[0] < gen.n_prompt:
        raise ValueError(
            f"words {word_a} and {word_b} must be generated; the prompt has "
            f"{count_words(decode(ids[: gen.n_prompt]))} words"
        )
    p = tb[0]
    if p == 0:
        raise ValueError("the 12th word starts the text; nothing to attend to")
    last = attention_row(model, ids, p, -1)
    first = attention_row(model, ids, p, 0)
    c0 = max(0, p - model.config.block_size)
    ctx = ids[c0:p]
    k = ta[0] - gen.n_prompt  # the 11th word's first token among the generated ones
    sampled = k < len(gen.sample_probs)
    return AttentionStudy(
        text=text,
        ids=list(ids),
        tokens=token_strings(ctx),
        word11=text[slice(*spans[word_a - 1])],
        word12=text[slice(*spans[word_b - 1])],
        word11_tokens=ta,
        word12_tokens=tb,
        predict_index=p,
        last_block=last.tolist(),
        first_block=first.tolist(),
        next_token_top=top_next(model, ids[:p]),
        word11_top=top_next(model, ids[: ta[0]]),
        word11_prob=next_prob(model, ids[: ta[0]], ids[ta[0]]),
        word11_sample_prob=gen.sample_probs[k] if sampled else None,
        word11_sample_top=(
            top_next(model, ids[: ta[0]], temperature=gen.temperature, top_k=gen.top_k)
            if sampled
            else []
        ),
        context_start=c0,
    )


def whole_word_count(book: str, word: str) -> int:
    """Occurrences of ``word`` in ``book`` as a whole word (case-insensitive; a word touching
    a letter, digit, apostrophe or hyphen does not count)."""
    pattern = r"(?<![\w'’\-])" + re.escape(word) + r"(?![\w'’\-])"
    return len(re.findall(pattern, book, flags=re.IGNORECASE))


def word_evidence(book: str, text: str, k: int = 11) -> dict:
    """How often the ``k``-th word of ``text`` occurs in ``book``, and right after the
    (k−1)-th word (case-insensitive, whole words, any non-word characters between)."""
    words = [text[a:b] for a, b in word_spans(text)]
    prev, word = words[k - 2], words[k - 1]

    def count(pattern: str) -> int:
        return len(re.findall(pattern, book, flags=re.IGNORECASE))

    w = r"(?<![\w'’\-])" + re.escape(word) + r"(?![\w'’\-])"
    p = r"(?<![\w'’\-])" + re.escape(prev) + r"[^\w]+" + re.escape(word) + r"(?![\w'’\-])"
    return {"words": words, "prev": prev, "word": word, "count": count(w), "bigram": count(p)}
