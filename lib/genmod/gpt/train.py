"""Training the GPT on the book (question A1).

AdamW with linear warm-up then cosine decay to ``min_lr``, gradient clipping, dropout; the
training loss of every step, and at every ``eval_interval`` steps the full validation loss
(:func:`evaluate`: mean cross-entropy over every token of the held-out split, consecutive
non-overlapping ``block_size`` windows) and the same metric on a fixed sample of training
windows (eval mode, so both curves are measured alike). The checkpoint with the lowest
validation loss is kept, and training stops once ``patience`` evaluations have passed
without a new best (early stopping). :func:`train_or_load` caches the
result with :func:`genmod.cache.load_or_train`, keyed by the configuration and the text's
sha256.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from genmod.cache import load_or_train
from genmod.gpt.data import Splits, eval_windows, get_batch, make_splits
from genmod.gpt.model import GPT, GPTConfig


@dataclass
class TrainConfig:
    # model
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64
    dropout: float = 0.1
    vocab_size: int = 50257
    # optimisation
    batch_size: int = 16
    max_iters: int = 600
    lr: float = 2e-3
    min_lr: float = 1e-4
    warmup_iters: int = 40
    weight_decay: float = 0.1
    beta2: float = 0.95
    grad_clip: float = 1.0
    label_smoothing: float = 0.0  # training loss only; evaluation is plain cross-entropy
    ema_decay: float = 0.0  # > 0: evaluate and keep an exponential moving average of weights
    ema_ramp: float = 10.0  # the average's decay at step k is min(ema_decay, (1+k)/(ema_ramp+k))
    # evaluation / data
    eval_interval: int = 25
    patience: int = 0  # stop after this many evaluations without a new best (0 = never)
    train_eval_tokens: int = 4096  # size of the fixed training sample scored at each eval
    val_fraction: float = 0.1
    seed: int = 0
    loss_chunk: int = 1024  # rows per chunk of the fast head+loss (0 = plain path)

    def model_config(self) -> GPTConfig:
        return GPTConfig(
            block_size=self.block_size,
            vocab_size=self.vocab_size,
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_embd=self.n_embd,
            dropout=self.dropout,
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["ema_ramp"] == 10.0:  # models trained before the ramp was a setting keep their key
            del d["ema_ramp"]
        return d


def lr_at(it: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``lr`` over ``warmup_iters``, then cosine decay to ``min_lr``::

    lr(it) = min_lr + ½ (lr − min_lr)(1 + cos(π (it − w)/(max_iters − w)))
    """
    if it < cfg.warmup_iters:
        return cfg.lr * (it + 1) / cfg.warmup_iters
    span = max(cfg.max_iters - cfg.warmup_iters, 1)
    ratio = min(max((it - cfg.warmup_iters) / span, 0.0), 1.0)
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1.0 + math.cos(math.pi * ratio))


def evaluate(model: GPT, tokens: torch.Tensor, block_size: int, batch_windows: int = 32) -> float:
    """Mean cross-entropy (nats/token) over every target of ``tokens``, scored in
    consecutive non-overlapping windows of ``block_size`` tokens: deterministic and complete.

    ``loss = −1/N Σ_{i=1}^{N} log p(t_i | t_{⌊(i−1)/B⌋·B}, …, t_{i−1})``, N = len(tokens) − 1.
    """
    return evaluate_windows(model, eval_windows(tokens, block_size), batch_windows)


def _sum_ce(model: GPT, h: torch.Tensor, y: torch.Tensor, chunk: int = 256) -> float:
    h = h.reshape(-1, h.shape[-1])
    y = y.reshape(-1)
    s = 0.0
    for i in range(0, len(y), chunk):
        logits = model.lm_head(h[i : i + chunk])
        s += F.cross_entropy(logits, y[i : i + chunk], reduction="sum").item()
    return s


def fixed_train_sample(tokens: torch.Tensor, n_tokens: int, block_size: int, seed: int):
    """A fixed set of training windows (≈ n_tokens targets) to score like the validation."""
    g = torch.Generator().manual_seed(seed + 12345)
    n = max(1, n_tokens // block_size)
    starts = torch.randint(len(tokens) - block_size - 1, (n,), generator=g)
    return [(tokens[s : s + block_size], tokens[s + 1 : s + block_size + 1]) for s in starts]


@torch.no_grad()
def evaluate_windows(model: GPT, windows, batch_windows: int = 32) -> float:
    """Mean cross-entropy over the targets of ``(inputs, targets)`` windows, in eval mode;
    windows of equal length are scored ``batch_windows`` at a time."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    by_length: dict[int, list] = {}
    for w in windows:
        by_length.setdefault(len(w[0]), []).append(w)
    total, count = 0.0, 0
    for group in by_length.values():
        for s in range(0, len(group), batch_windows):
            xs = torch.stack([w[0] for w in group[s : s + batch_windows]]).to(device)
            ys = torch.stack([w[1] for w in group[s : s + batch_windows]]).to(device)
            h, _ = model.hidden(xs)
            total += _sum_ce(model, h, ys)
            count += ys.numel()
    model.train(was_training)
    return total / count


@dataclass
class History:
    step: list = field(default_factory=list)  # every optimisation step
    step_loss: list = field(default_factory=list)  # its training-batch loss (dropout on)
    step_time: list = field(default_factory=list)  # seconds since start (training only)
    eval_step: list = field(default_factory=list)
    eval_time: list = field(default_factory=list)
    train: list = field(default_factory=list)  # eval-mode loss on the fixed training sample
    val: list = field(default_factory=list)  # full validation loss
    lr: list = field(default_factory=list)


def train(
    splits: Splits,
    cfg: TrainConfig,
    device: torch.device | str = "cpu",
    progress: bool = True,
    time_limit_s: float | None = None,
    log=None,
) -> dict:
    """Train from scratch; return the payload (best weights + history + figures)."""
    device = torch.device(device)
    torch.manual_seed(cfg.seed)
    model = GPT(cfg.model_config()).to(device)
    model.loss_chunk = cfg.loss_chunk
    opt = model.configure_optimizer(cfg.lr, cfg.weight_decay, betas=(0.9, cfg.beta2))
    gen = torch.Generator().manual_seed(cfg.seed)
    train_tokens, val_tokens = splits.train, splits.val
    train_sample = fixed_train_sample(train_tokens, cfg.train_eval_tokens, cfg.block_size, cfg.seed)
    hist = History()
    best = {"val": float("inf"), "step": -1, "state": None}
    # The evaluated (and kept) model: the trained one, or the moving average of its weights
    # θ̄ ← d·θ̄ + (1 − d)·θ after each step, with d = min(ema_decay, (1 + k)/(ema_ramp + k)).
    scored = copy.deepcopy(model) if cfg.ema_decay > 0 else model
    ema_params = list(scored.parameters())
    live_params = list(model.parameters())

    def do_eval(step: int, elapsed: float):
        v = evaluate(scored, val_tokens, cfg.block_size)
        t = evaluate_windows(scored, train_sample)
        hist.eval_step.append(step)
        hist.eval_time.append(elapsed)
        hist.val.append(v)
        hist.train.append(t)
        if v < best["val"]:
            best.update(
                val=v,
                step=step,
                state={k: x.detach().cpu().clone() for k, x in scored.state_dict().items()},
            )
        return v, t

    train_seconds = 0.0  # optimisation only (evaluations excluded)
    t_wall = time.perf_counter()
    cpu0 = time.process_time()
    do_eval(0, 0.0)
    bar = tqdm(range(cfg.max_iters), desc="GPT training", disable=not progress, mininterval=1.0)
    steps_done = 0
    for it in bar:
        lr = lr_at(it, cfg)
        for g in opt.param_groups:
            g["lr"] = lr
        t0 = time.perf_counter()
        x, y = get_batch(train_tokens, cfg.batch_size, cfg.block_size, gen)
        x, y = x.to(device), y.to(device)
        _, loss, _ = model(x, y, label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        if scored is not model:
            with torch.no_grad():
                d = min(cfg.ema_decay, (1 + it) / (cfg.ema_ramp + it))
                torch._foreach_lerp_(ema_params, live_params, 1.0 - d)
        lv = loss.item()
        train_seconds += time.perf_counter() - t0
        steps_done = it + 1
        hist.step.append(steps_done)
        hist.step_loss.append(lv)
        hist.step_time.append(train_seconds)
        hist.lr.append(lr)
        last = steps_done == cfg.max_iters
        out_of_time = time_limit_s is not None and time.perf_counter() - t_wall > time_limit_s
        if steps_done % cfg.eval_interval == 0 or last or out_of_time:
            v, t = do_eval(steps_done, train_seconds)
            bar.set_postfix(train=f"{t:.3f}", val=f"{v:.3f}", best=f"{best['val']:.3f}")
            if log is not None:
                log(
                    f"step {steps_done} train {t:.4f} val {v:.4f} best {best['val']:.4f} "
                    f"t {train_seconds:.0f}s cpu {time.process_time() - cpu0:.0f}s"
                )
        if out_of_time:
            break
        if (
            cfg.patience > 0
            and hist.eval_step
            and hist.eval_step[-1] == steps_done
            and len(hist.eval_step) - 1 - hist.eval_step.index(best["step"]) >= cfg.patience
        ):
            break  # early stopping: the kept checkpoint is `patience` evaluations old
    wall = time.perf_counter() - t_wall
    cpu = time.process_time() - cpu0
    tokens = steps_done * cfg.batch_size * cfg.block_size
    return {
        "state_dict": best["state"],
        "config": cfg.to_dict(),
        "best_step": best["step"],
        "val_loss": best["val"],
        "history": asdict(hist),
        "steps_done": steps_done,
        "train_seconds": train_seconds,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "tokens_per_second": tokens / max(train_seconds, 1e-9),
        "n_params": sum(p.numel() for p in model.parameters()),
        "n_train_tokens": len(train_tokens),
        "n_val_tokens": len(val_tokens),
        "data_sha256": splits.sha256,
    }


def model_from_payload(payload: dict, device: torch.device | str = "cpu") -> GPT:
    """Rebuild the trained (best-checkpoint) model in eval mode."""
    cfg = TrainConfig(**payload["config"])
    model = GPT(cfg.model_config())
    model.load_state_dict(payload["state_dict"])
    return model.to(device).eval()


def train_or_load(
    text: str,
    cfg: TrainConfig,
    device: torch.device | str = "cpu",
    cache_dir=None,
    retrain: bool = False,
    progress: bool = True,
) -> tuple[dict, bool]:
    """``(payload, from_cache)``; the cache key is the configuration + the text's sha256 +
    the device type (CPU and GPU arithmetic differ)."""
    splits = make_splits(text, cfg.val_fraction)
    key = {
        "train": cfg.to_dict(),
        "data_sha256": splits.sha256,
        "device_type": torch.device(device).type,
    }
    return load_or_train(
        cache_dir, "gpt", key, lambda: train(splits, cfg, device, progress), retrain=retrain
    )


@torch.no_grad()
def token_losses(model: GPT, tokens: torch.Tensor, block_size: int) -> torch.Tensor:
    """Per-target cross-entropy ``−log p(t_i | window)`` in the windows of :func:`evaluate`
    (so ``token_losses(...).mean() == evaluate(...)``), float64, on the CPU."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for x, y in eval_windows(tokens, block_size):
        logits, _, _ = model(x[None].to(device))
        lp = F.log_softmax(logits[0].double(), dim=-1)
        out.append(-lp.gather(1, y.to(device)[:, None]).squeeze(1).cpu())
    model.train(was_training)
    return torch.cat(out)
