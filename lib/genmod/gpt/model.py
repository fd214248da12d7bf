"""GPT-2 (nanoGPT style): pre-LayerNorm transformer blocks, learned position embeddings,
GELU MLP, tied input/output embeddings (question A1).

For a sequence of token ids ``t_1..t_T`` (or input vectors ``e_1..e_T`` in place of the
token embeddings, for the inversion of A2)::

    x_0 = E[t] + P[0:T]                 (E: token embedding, P: position embedding)
    x_l = x_{l-1} + Attn(LN(x_{l-1}));  x_l = x_l + MLP(LN(x_l))      for l = 1..L
    logits = LN_f(x_L) · Eᵀ             (the output head is tied to E)

Causal self-attention per head, with ``d = n_embd / n_head``::

    A = softmax(Q Kᵀ / √d + M),  M_ij = -inf for j > i,   y = A V

:class:`CausalSelfAttention` uses :func:`torch.nn.functional.scaled_dot_product_attention`
unless the weights ``A`` are asked for (``need_weights=True``), in which case the manual
path computes and returns them.

The loss is the mean cross-entropy ``-1/N Σ log softmax(logits)_{target}``. With the full
50257-token vocabulary the output head and its loss dominate a training step on a CPU, so
:func:`chunked_head_loss` computes them chunk by chunk without keeping the ``N × V`` logits
(gradients are formed in the forward pass; same values as the plain path).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    block_size: int = 64
    vocab_size: int = 50257
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True  # biases in Linear and LayerNorm layers, as in GPT-2

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")

    def to_dict(self) -> dict:
        return asdict(self)


#: Model shapes from tiny (tests) to GPT-2 small (124M parameters, the exercise's "gpt2").
PRESETS: dict[str, dict] = {
    "tiny": dict(n_layer=2, n_head=2, n_embd=32, block_size=32),
    "mini": dict(n_layer=4, n_head=4, n_embd=128, block_size=64),  # nanoGPT's CPU recipe
    "small": dict(n_layer=6, n_head=6, n_embd=384, block_size=256),
    "gpt2-124M": dict(n_layer=12, n_head=12, n_embd=768, block_size=1024),
}


def preset(name: str, **overrides) -> GPTConfig:
    if name not in PRESETS:
        raise ValueError(f"preset={name!r}: accepted: {' | '.join(PRESETS)}")
    return GPTConfig(**{**PRESETS[name], **overrides})


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout

    def forward(
        self, x: torch.Tensor, need_weights: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        att = None
        if need_weights:
            # Manual path: A = softmax(Q Kᵀ / √d + causal mask), returned per head.
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            scores = scores.masked_fill(~mask, float("-inf"))
            att = F.softmax(scores, dim=-1)
            y = self.attn_dropout(att) @ v
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
            )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y)), att


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, need_weights: bool = False):
        a, att = self.attn(self.ln_1(x), need_weights=need_weights)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, att


class HeadWorkspace:
    """A reusable buffer for the ``c × V`` chunk logits of :func:`chunked_head_loss`.

    On a CPU a fresh 150 MB tensor per step comes from ``mmap`` and costs a page fault per
    4 kB page (kernel time, ≈ 20 % of a step at nanoGPT's config: docs/performance.md,
    speed choices); reusing one buffer avoids it. A :class:`GPT` owns one; it is never part
    of the autograd graph.
    """

    def __init__(self):
        self.buffer: torch.Tensor | None = None

    def take(self, rows: int, cols: int, like: torch.Tensor) -> torch.Tensor:
        n = rows * cols
        b = self.buffer
        if b is None or b.numel() < n or b.device != like.device or b.dtype != like.dtype:
            b = self.buffer = torch.empty(n, dtype=like.dtype, device=like.device)
        return b[:n].view(rows, cols)


def _log_softmax_(z: torch.Tensor) -> torch.Tensor:
    """``z ← log_softmax(z)`` along the last dimension, in place on a CPU (the kernel maps
    each row element-wise once its max and sum are known, so input and output may alias);
    elsewhere the out-of-place kernel (GPU allocators cache their memory)."""
    if z.device.type == "cpu":
        return torch.ops.aten._log_softmax.out(z, -1, False, out=z)
    return z.copy_(torch.log_softmax(z, dim=-1))


class _ChunkedHeadLoss(torch.autograd.Function):
    """Mean cross-entropy of ``h @ Wᵀ`` against ``targets``, chunk by chunk.

    Forward, per chunk of ``c`` rows with per-row weight ``s = valid / N_valid``:
    ``z = h_c Wᵀ`` (into the reused workspace), ``z ← log_softmax(z)`` in place,
    ``loss += Σ s·(−z[target])`` (label smoothing ε: ``(1−ε)·(−z[target]) + ε·(−mean z)``);
    and, since the loss is a scalar, its gradients at once: ``P = exp(z) − (1−ε)·onehot``
    in place, ``∂h_c = s ⊙ (P W) − s·(ε/V)·Σ_v W_v``, ``∂W += Pᵀ (s ⊙ h_c) − (ε/V)·Σ_c s h_c``
    (the row weights and the uniform ε/V term act on the small ``c × C`` factors, never on
    the ``c × V`` buffer). Backward only scales the stored gradients by the incoming scalar.
    One ``c × V`` buffer serves for the logits, the log-probabilities and the gradient; the
    plain path keeps several ``N × V`` tensors (logits, log-softmax and their gradients).
    """

    @staticmethod
    def forward(ctx, h, weight, targets, chunk_size, ignore_index, smoothing, workspace):
        N = h.shape[0]
        V = weight.shape[0]
        valid = targets != ignore_index
        scale = valid.to(h.dtype) / max(int(valid.sum()), 1)
        need_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        grad_h = torch.empty_like(h) if need_grad else None
        grad_w = None
        total = torch.zeros((), dtype=h.dtype, device=h.device)
        eps = float(smoothing)
        workspace = workspace if workspace is not None else HeadWorkspace()
        w_sum = weight.sum(0) if need_grad and eps > 0 else None
        for s in range(0, N, chunk_size):
            hc, sc = h[s : s + chunk_size], scale[s : s + chunk_size]
            tsafe = targets[s : s + chunk_size].clamp(min=0)
            rows = torch.arange(len(tsafe), device=h.device)
            z = torch.mm(hc, weight.t(), out=workspace.take(len(tsafe), V, h))
            _log_softmax_(z)
            nll = -z[rows, tsafe]
            if eps > 0:
                nll = (1 - eps) * nll - eps * z.mean(-1)
            total += (nll * sc).sum()
            if not need_grad:
                continue
            z.exp_()  # softmax
            z[rows, tsafe] -= 1.0 - eps
            hs = hc * sc[:, None]
            gh = torch.mm(z, weight, out=grad_h[s : s + chunk_size])
            gh.mul_(sc[:, None])
            if grad_w is None:
                grad_w = torch.mm(z.t(), hs)
            else:
                grad_w.addmm_(z.t(), hs)
            if eps > 0:
                gh.sub_((eps / V) * sc[:, None] * w_sum)
                grad_w.sub_((eps / V) * hs.sum(0))
        ctx.save_for_backward(grad_h, grad_w)
        return total

    @staticmethod
    def backward(ctx, grad_out):
        grad_h, grad_w = ctx.saved_tensors
        gh = grad_h * grad_out if ctx.needs_input_grad[0] else None
        gw = grad_w * grad_out if ctx.needs_input_grad[1] else None
        return gh, gw, None, None, None, None, None


def chunked_head_loss(
    h: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    chunk_size: int = 128,
    ignore_index: int = -1,
    label_smoothing: float = 0.0,
    workspace: HeadWorkspace | None = None,
) -> torch.Tensor:
    """``F.cross_entropy(h @ weight.T, targets, ignore_index=..., label_smoothing=...)``
    without the full logits.

    ``h``: (N, C) final hidden states, ``weight``: (V, C) tied embedding, ``targets``: (N,);
    ``workspace``: a :class:`HeadWorkspace` to reuse across calls (one per model).
    """
    return _ChunkedHeadLoss.apply(
        h.reshape(-1, h.shape[-1]),
        weight,
        targets.reshape(-1),
        chunk_size,
        ignore_index,
        label_smoothing,
        workspace,
    )


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # tied embeddings
        self.apply(self._init_weights)
        # GPT-2: scale the residual projections by 1/√(2 L).
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
        self.loss_chunk = 1024  # rows per chunk of the fast head+loss; 0 = plain path
        self.head_workspace = HeadWorkspace()

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self, non_embedding: bool = True) -> int:
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wpe.weight.numel()
        return n

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``E[idx]`` (what ``inputs_embeds`` replaces)."""
        return self.transformer.wte(idx)

    def hidden(
        self,
        idx: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        """Final hidden states ``LN_f(x_L)`` (B, T, C) and, if asked, the attention weights
        (one (B, n_head, T, T) tensor per block)."""
        if (idx is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of idx and inputs_embeds")
        tok = self.transformer.wte(idx) if idx is not None else inputs_embeds
        if tok.dim() == 2:
            tok = tok.unsqueeze(0)
        T = tok.shape[1]
        if T > self.config.block_size:
            raise ValueError(f"sequence of {T} tokens > block_size={self.config.block_size}")
        pos = torch.arange(T, device=tok.device)
        x = self.transformer.drop(tok + self.transformer.wpe(pos))
        atts = [] if need_weights else None
        for block in self.transformer.h:
            x, att = block(x, need_weights=need_weights)
            if need_weights:
                atts.append(att)
        return self.transformer.ln_f(x), atts

    def forward(
        self,
        idx: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        need_weights: bool = False,
        label_smoothing: float = 0.0,
    ):
        """Returns ``(logits, loss, attentions)``.

        ``label_smoothing`` ε (training only) mixes the one-hot target with the uniform
        distribution: loss = (1 − ε)·CE + ε·mean_v(−log p_v), as ``F.cross_entropy`` does.

        With ``targets`` and the fast path enabled (``self.loss_chunk > 0``) ``logits`` is
        None (they are never materialised); set ``loss_chunk = 0`` for the plain path.
        ``attentions`` is None unless ``need_weights``.
        """
        h, atts = self.hidden(idx, inputs_embeds, need_weights)
        if targets is None:
            return self.lm_head(h), None, atts
        if self.loss_chunk > 0:
            loss = chunked_head_loss(
                h,
                self.lm_head.weight,
                targets,
                self.loss_chunk,
                -1,
                label_smoothing,
                self.head_workspace,
            )
            return None, loss, atts
        logits = self.lm_head(h)
        loss = F.cross_entropy(
            logits.view(-1, logits.size(-1)),
            targets.reshape(-1),
            ignore_index=-1,
            label_smoothing=label_smoothing,
        )
        return logits, loss, atts

    def configure_optimizer(
        self, lr: float, weight_decay: float, betas=(0.9, 0.95), fused: bool = True
    ):
        """AdamW; weight decay on matrices (incl. the tied embedding), not on biases/norms."""
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        groups = [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        # The fused AdamW kernel (torch >= 2.4, CPU and GPU) updates all 6.4 M embedding
        # entries in one pass; a whole training step on a 2-core CPU measured no faster or
        # slower with it (docs/performance.md), and it is the faster kernel on GPUs.
        try:
            return torch.optim.AdamW(groups, lr=lr, betas=betas, fused=fused)
        except (TypeError, RuntimeError):  # an older torch or a device without the kernel
            return torch.optim.AdamW(groups, lr=lr, betas=betas)

    def flops_per_token(self) -> float:
        """Training FLOPs per token (forward + backward), PaLM appendix B: 6N + 12·L·T·C."""
        c = self.config
        N = sum(p.numel() for p in self.parameters())
        return 6 * N + 12 * c.n_layer * c.block_size * c.n_embd
