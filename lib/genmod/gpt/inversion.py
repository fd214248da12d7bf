"""Inversion (A2): find input vectors that make the frozen model emit a target sentence.

Target tokens ``t_0..t_{n−1}``; the free input ``X = inp_vec ∈ R^{n × C}`` replaces the token
embeddings (position embeddings are still added: ``x_0 = X + P[0:n]``). The loss is the
cross-entropy between the prediction at each position ``i`` and token ``i`` of the target::

    L(X) = −1/n Σ_{i=0}^{n−1} log softmax(f(X)_i)_{t_i}

minimised with Adam over ``X`` only (every model weight frozen). Cross-entropy rewards
lowering *all* competing logits, so at a position where the target is only narrowly the best
reachable token its minimum can leave another token on top; an optional hinge on the best
competitor, ``max(0, max_{v≠t_i} z_v − z_{t_i} + m)``, targets the argmax itself. The greedy decoding is
``argmax_v f(X)_i`` at each position; success means it equals the target at every position.

Choices (recorded in :class:`InversionResult`): the initialisation — ``"shifted"`` starts from
the embeddings the model would see when reading the sentence (``E[<|endoftext|>], E[t_0],
…, E[t_{n−2}]``), ``"random"`` from ``N(0, σ²)`` with σ the embedding table's std, ``"mean"``
from the mean embedding —, Adam's learning rate, and an optional norm cap: after each
step each row of ``X`` is rescaled to at most ``max_norm`` (default: no cap).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F

from genmod.gpt.model import GPT
from genmod.gpt.tokenizer import EOT_ID, decode, encode, token_strings


@dataclass
class InversionConfig:
    steps: int = 300
    lr: float = 0.05
    init: str = "shifted"  # shifted | random | mean
    max_norm: float | None = None
    margin: float = 1.0  # > 0 adds a hinge on the best competitor (see module docstring)
    seed: int = 0
    stop_on_success: bool = True
    record_every: int = 1  # keep the decoded text every k steps (and at every change)


@dataclass
class InversionResult:
    target: str
    target_ids: list[int]
    success: bool
    steps: int | None  # step of first success (1-based: after that many updates), or None
    steps_run: int
    decoded: str  # final greedy decoding
    pred_ids: list[int] = field(default_factory=list)  # its token ids, one per position
    losses: list[float] = field(default_factory=list)  # the minimised loss: CE (+ hinge)
    ce_losses: list[float] = field(default_factory=list)  # its cross-entropy term
    hinge_losses: list[float] = field(default_factory=list)  # its hinge term (0 if margin 0)
    n_correct: list[int] = field(default_factory=list)  # positions right at each step
    decoded_history: list[tuple[int, str]] = field(default_factory=list)
    nearest_ids: list[int] = field(default_factory=list)
    nearest_tokens: list[str] = field(default_factory=list)
    nearest_cosine: list[float] = field(default_factory=list)
    hard_prompt_decoded: str = ""
    hard_prompt_success: bool = False
    inp_norms: list[float] = field(default_factory=list)
    # per position at the end: target logit − largest other logit (> 0: decoded right)
    final_margins: list[float] = field(default_factory=list)
    embedding_norm_median: float = 0.0
    config: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _init(model: GPT, ids: list[int], cfg: InversionConfig) -> torch.Tensor:
    wte = model.transformer.wte.weight.detach()
    n = len(ids)
    if cfg.init == "shifted":
        prev = torch.tensor([EOT_ID] + ids[:-1], device=wte.device)
        return wte[prev].clone()
    if cfg.init == "random":
        g = torch.Generator().manual_seed(cfg.seed)
        return (torch.randn(n, wte.shape[1], generator=g) * wte.std().cpu()).to(wte.device)
    if cfg.init == "mean":
        return wte.mean(0, keepdim=True).repeat(n, 1).clone()
    raise ValueError(f"init={cfg.init!r}: accepted: shifted | random | mean")


def margin_loss(logits: torch.Tensor, target: torch.Tensor, margin: float) -> torch.Tensor:
    """``1/n Σ_i max(0, max_{v≠t_i} z_{i,v} − z_{i,t_i} + margin)``: zero once every position
    decodes right with a logit gap of at least ``margin``."""
    zt = logits.gather(1, target[:, None]).squeeze(1)
    other = logits.scatter(1, target[:, None], float("-inf")).max(-1).values
    return F.relu(other - zt + margin).mean()


@torch.no_grad()
def greedy(model: GPT, inp_vec: torch.Tensor) -> list[int]:
    logits, _, _ = model(inputs_embeds=inp_vec[None])
    return logits[0].argmax(-1).tolist()


@torch.no_grad()
def target_margins(model: GPT, inp_vec: torch.Tensor, ids: list[int]) -> list[float]:
    """Per position, the target token's logit minus the largest other logit."""
    logits, _, _ = model(inputs_embeds=inp_vec[None])
    z = logits[0]
    t = torch.tensor(ids, device=z.device)
    zt = z.gather(1, t[:, None]).squeeze(1)
    other = z.scatter(1, t[:, None], float("-inf")).max(-1).values
    return (zt - other).tolist()


@torch.no_grad()
def nearest_tokens(model: GPT, inp_vec: torch.Tensor) -> tuple[list[int], list[float]]:
    """For each row of ``inp_vec``, the token whose embedding has the largest cosine."""
    wte = model.transformer.wte.weight
    sims = F.normalize(inp_vec, dim=-1) @ F.normalize(wte, dim=-1).t()
    v, i = sims.max(-1)
    return i.tolist(), v.tolist()


def invert(model: GPT, sentence: str, cfg: InversionConfig | None = None) -> InversionResult:
    """Optimise ``inp_vec`` until the greedy decoding equals ``sentence`` (or ``cfg.steps``)."""
    cfg = cfg or InversionConfig()
    ids = encode(sentence)
    if not ids:
        raise ValueError("inversion sentence is empty")
    if len(ids) > model.config.block_size:
        raise ValueError(
            f"the sentence has {len(ids)} tokens > block_size={model.config.block_size}"
        )
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    device = next(model.parameters()).device
    target = torch.tensor(ids, device=device)
    inp = _init(model, ids, cfg).requires_grad_(True)
    opt = torch.optim.Adam([inp], lr=cfg.lr)
    res = InversionResult(
        target=sentence,
        target_ids=ids,
        success=False,
        steps=None,
        steps_run=0,
        decoded="",
        config=asdict(cfg),
    )
    t0 = time.perf_counter()
    last_text = None
    try:
        for step in range(cfg.steps + 1):
            logits, _, _ = model(inputs_embeds=inp[None])
            ce = F.cross_entropy(logits[0], target)
            loss = ce
            if cfg.margin > 0:
                hinge = margin_loss(logits[0], target, cfg.margin)
                loss = loss + hinge
            res.ce_losses.append(ce.item())
            res.hinge_losses.append(hinge.item() if cfg.margin > 0 else 0.0)
            pred = logits[0].argmax(-1)
            correct = int((pred == target).sum())
            text = decode(pred.tolist())
            res.losses.append(loss.item())
            res.n_correct.append(correct)
            if text != last_text or step % cfg.record_every == 0:
                res.decoded_history.append((step, text))
                last_text = text
            res.steps_run = step
            if correct == len(ids) and res.steps is None:
                res.steps = step
                res.success = True
                if cfg.stop_on_success:
                    break
            if step == cfg.steps:
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if cfg.max_norm is not None:
                with torch.no_grad():
                    n = inp.norm(dim=-1, keepdim=True).clamp(min=1e-12)
                    inp.mul_(torch.clamp(cfg.max_norm / n, max=1.0))
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    x = inp.detach()
    res.pred_ids = greedy(model, x)
    res.final_margins = target_margins(model, x, ids)
    res.decoded = decode(res.pred_ids)
    res.seconds = time.perf_counter() - t0
    nid, ncos = nearest_tokens(model, x)
    res.nearest_ids = nid
    res.nearest_tokens = token_strings(nid)
    res.nearest_cosine = ncos
    with torch.no_grad():
        hard = model(torch.tensor(nid, device=device)[None])[0][0].argmax(-1).tolist()
    res.hard_prompt_decoded = decode(hard)
    res.hard_prompt_success = hard == ids
    res.inp_norms = x.norm(dim=-1).tolist()
    res.embedding_norm_median = float(model.transformer.wte.weight.detach().norm(dim=-1).median())
    return res


def output_reachable(
    model: GPT, token_id: int, steps: int = 500, lr: float = 0.05, seed: int = 0
) -> tuple[bool, float]:
    """Can *any* input make ``token_id`` the greedy output? A necessary check.

    Every output position ends with ``logits = (γ ⊙ n + β) Eᵀ``, where ``n`` is a LayerNorm
    output: zero mean and norm √C. Whatever the inputs, the logits are confined to this set,
    so we search it directly (Adam over ``n``) for a point where ``token_id`` is the argmax.
    Returns ``(found, best margin)`` with margin = its logit minus the largest other logit.
    A token that is not the argmax anywhere on the set is unreachable by inversion; but the
    search is local (Adam from one start, ``steps`` steps), so ``found = False`` only says
    that this search found no such point, and ``found = True`` says nothing about whether
    the blocks below the last LayerNorm can produce that point from some input.
    """
    W = model.lm_head.weight.detach()
    ln = model.transformer.ln_f
    gamma = ln.weight.detach()
    beta = ln.bias.detach() if ln.bias is not None else torch.zeros_like(gamma)
    C = W.shape[1]
    g = torch.Generator().manual_seed(seed)
    # start from the direction of the token's own (scaled) embedding
    v = (gamma * W[token_id]).clone().cpu() + 0.01 * torch.randn(C, generator=g)
    v = v.to(W.device).requires_grad_(True)
    opt = torch.optim.Adam([v], lr=lr)
    target = torch.tensor([token_id], device=W.device)
    best = -float("inf")
    for _ in range(steps):
        n = v - v.mean()
        n = n / n.norm().clamp(min=1e-12) * C**0.5
        z = W @ (gamma * n + beta)
        with torch.no_grad():
            other = z.clone()
            other[token_id] = -float("inf")
            best = max(best, float(z[token_id] - other.max()))
        loss = F.cross_entropy(z[None], target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return best > 0, best
