"""Section 03's parameters, profiles and per-profile settings.

Notebook parameters (in the order of the notebook's parameters cell): :data:`PARAMETERS`;
budget-like ones default to ``None`` and come from :data:`PROFILES`. Everything else that
shapes the run (batch size, learning rate, dropout, sampling, …) is fixed per profile in
:data:`SETTINGS` (:func:`settings`), recorded in ``results.json``; the training part of it is
in the trained-model cache key (:func:`train_config`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from genmod.gpt.generate import count_words
from genmod.gpt.inversion import InversionConfig
from genmod.gpt.model import GPTConfig
from genmod.gpt.tokenizer import encode
from genmod.gpt.train import TrainConfig
from genmod.params import COMMON_PARAMETERS, check_int, check_profile, check_str, resolve

SECTION = "autoregressive_gpt"
PARAMETERS = COMMON_PARAMETERS + (
    "alice_path",
    "block_size",
    "n_layer",
    "n_head",
    "n_embd",
    "max_iters",
    "inversion_sentence",
    "prompt",
    "min_words",
)
DEFAULT_SENTENCE = "I am a little squirrel holding a walnut"
DEFAULT_PROMPT = "Alice was beginning to get very tired of"

PROFILES: dict[str, dict] = {
    "smoke": dict(block_size=32, n_layer=2, n_head=2, n_embd=32, max_iters=30),
    # nanoGPT's CPU depth (4 layers) at twice its width (docs/recipes.md): on the book's
    # validation split (seed 0, label smoothing 0.05, EMA 0.995) width 96 was at 4.91 when its
    # run was cut short at step 425, 128 scored 4.83, 192 4.83, 256 4.79. A 1000-step cosine
    # keeps the learning rate high while the model still generalises; over seeds 0–4 the best
    # validation loss comes at steps 400–450 and early stopping (the first evaluation without a
    # new best: patience 1) ends the run 25 steps later (docs/recipes.md).
    "default": dict(block_size=64, n_layer=4, n_head=8, n_embd=256, max_iters=1000),
    # GPT-2 small's shape (124M parameters) for a GPU; the book still has ~38k tokens, so
    # keeping the best checkpoint by validation loss matters even more.
    "full": dict(block_size=64, n_layer=12, n_head=12, n_embd=768, max_iters=1500),
}


@dataclass
class Settings:
    """Per-profile settings that are not notebook parameters."""

    batch_size: int
    lr: float
    min_lr: float
    warmup_iters: int
    dropout: float
    weight_decay: float
    eval_interval: int
    beta2: float = 0.99
    label_smoothing: float = 0.0
    ema_decay: float = 0.0  # > 0: evaluate and keep a moving average of the weights
    ema_ramp: float = 10.0  # the average's decay at step k: min(ema_decay, (1 + k)/(ema_ramp + k))
    patience: int = 0  # early stopping after this many evaluations without a new best
    inversion_steps: int = 300
    inversion_lr: float = 0.1
    reach_steps: int = 300  # steps of the reachability check for tokens not reached
    train_eval_tokens: int = 4096  # fixed training sample scored at each evaluation
    temperature: float = 0.8
    top_k: int = 40
    generation_max_tokens: int = 200  # A3: bound on the generated tokens (at least 4·min_words)
    sentence_min_words: int = 5  # A5: the sampled sentence ends after at least this many words
    sentence_max_tokens: int = 128  # A5: ... within this many tokens (else: a fragment)
    # A5: draws allowed until one ends a sentence within the bound. From <|endoftext|> a draw
    # can fall into the book's runs of indentation spaces and reach the bound (seed 0 of the
    # default model: 1 of 20 draws)
    sentence_draws: int = 5
    cpu_threads: int | None = None  # None: torch's default

    def to_json(self) -> dict:
        return asdict(self)


SETTINGS: dict[str, Settings] = {
    "smoke": Settings(
        batch_size=8,
        lr=3e-3,
        min_lr=3e-4,
        warmup_iters=5,
        dropout=0.0,
        weight_decay=0.1,
        eval_interval=30,
        inversion_steps=40,
        reach_steps=40,
        train_eval_tokens=1024,
    ),
    # Label smoothing keeps probability mass on the ~46k token ids the training text never
    # shows: 6.7 % of the held-out tokens are such ids, and plain cross-entropy drives their
    # probability towards 0 (the validation loss rises as training goes on). Measured (4×4×128,
    # EMA 0.995, best validation loss): ε = 0.02 → 4.857, 0.05 → 4.832, 0.1 → 4.852.
    # The moving average of the weights (EMA) smooths the noise of the high learning rate at
    # which validation is best: 4.891 without, 4.858 with decay 0.99 (ε = 0.1, 128 wide).
    # These runs and the others tried: docs/recipes.md.
    "default": Settings(
        batch_size=12,
        lr=1e-3,
        min_lr=1e-4,
        warmup_iters=40,
        dropout=0.0,
        weight_decay=0.1,
        eval_interval=25,
        beta2=0.99,
        label_smoothing=0.05,
        # the moving average's decay is min(0.995, (1 + k)/(ema_ramp + k)) at step k. With the
        # ramp at 10 it stayed ≈ 0.975 up to the best step (k ≈ 350), so 0.995 and 0.998 gave the
        # same model; at 3 it reaches 0.995 by step 400 and averages more steps: best
        # validation loss over seeds 0–4 4.757, 4.767, 4.771, 4.778, 4.762 (ramp 10: 4.794,
        # 4.798, 4.798, 4.811, 4.786), at ≈ 100 more steps before early stopping
        # (docs/recipes.md, "Over seeds")
        ema_decay=0.995,
        ema_ramp=3.0,
        # stop at the first evaluation without a new best: in those five runs no evaluation
        # after the best improved on it, so patience 3 kept the same checkpoints and only spent
        # 50 more steps and 2 more evaluations (≈ 52 s) on showing the rise
        patience=1,
        train_eval_tokens=2048,  # the 256-wide model: each evaluation costs ≈ 4 s
    ),
    "full": Settings(
        batch_size=32,
        lr=6e-4,
        min_lr=6e-5,
        warmup_iters=100,
        dropout=0.2,
        weight_decay=0.1,
        eval_interval=50,
        beta2=0.99,
        label_smoothing=0.1,
    ),
}


def settings(profile: str) -> Settings:
    """The settings of ``profile``."""
    return SETTINGS[check_profile(profile)]


def check_prompt(name: str, value) -> str:
    value = check_str(name, value)
    n = count_words(value)
    if n > 10:
        raise ValueError(
            f"{name}={value!r}: has {n} words; at most 10, so that the 11th and 12th words "
            f"are generated by the model"
        )
    return value


def check_sentence(name: str, value) -> str:
    value = check_str(name, value)
    n = len(encode(value))
    if n > 64:
        raise ValueError(f"{name}={value!r}: {n} tokens; at most 64 (the context length)")
    return value


CHECKS = {
    "alice_path": check_str,
    "block_size": lambda n, v: check_int(n, v, 8, 1024),
    "n_layer": lambda n, v: check_int(n, v, 1, 48),
    "n_head": lambda n, v: check_int(n, v, 1, 64),
    "n_embd": lambda n, v: check_int(n, v, 8, 4096),
    "max_iters": lambda n, v: check_int(n, v, 1, 1_000_000),
    "inversion_sentence": check_sentence,
    "prompt": check_prompt,
    "min_words": lambda n, v: check_int(n, v, 12, 200),
}


def resolve_params(given: dict) -> dict:
    """Fill budgets from the profile and validate every parameter (one-line ValueError)."""
    params = resolve(given, PROFILES, CHECKS)
    if params["n_embd"] % params["n_head"]:
        raise ValueError(
            f"n_embd={params['n_embd']}: must be divisible by n_head={params['n_head']}"
        )
    if params["block_size"] < 8:
        raise ValueError(f"block_size={params['block_size']}: at least 8")
    n = len(encode(params["inversion_sentence"]))
    if n > params["block_size"]:
        raise ValueError(
            f"inversion_sentence={params['inversion_sentence']!r}: {n} tokens; at most "
            f"block_size={params['block_size']} (the context length)"
        )
    return params


def train_config(params: dict) -> TrainConfig:
    s = SETTINGS[params["profile"]]
    return TrainConfig(
        n_layer=params["n_layer"],
        n_head=params["n_head"],
        n_embd=params["n_embd"],
        block_size=params["block_size"],
        dropout=s.dropout,
        batch_size=s.batch_size,
        max_iters=params["max_iters"],
        lr=s.lr,
        min_lr=s.min_lr,
        warmup_iters=min(s.warmup_iters, max(1, params["max_iters"] // 10)),
        weight_decay=s.weight_decay,
        beta2=s.beta2,
        label_smoothing=s.label_smoothing,
        ema_decay=s.ema_decay,
        ema_ramp=s.ema_ramp,
        patience=s.patience,
        eval_interval=min(s.eval_interval, params["max_iters"]),
        train_eval_tokens=s.train_eval_tokens,
        seed=params["seed"],
    )


def inversion_config(params: dict, **overrides) -> InversionConfig:
    s = SETTINGS[params["profile"]]
    return replace(
        InversionConfig(steps=s.inversion_steps, lr=s.inversion_lr, seed=params["seed"]),
        **overrides,
    )


def generation_max_tokens(params: dict) -> int:
    """A3's bound on the generated tokens: the profile's, and at least 4 per requested word."""
    return max(SETTINGS[params["profile"]].generation_max_tokens, 4 * params["min_words"])


def bench_config(profile: str = "default") -> tuple[GPTConfig, int]:
    """The profile's model (with its dropout, as trained) and batch size,
    for ``make bench``'s ``gpt.default`` row."""
    p, s = PROFILES[profile], SETTINGS[profile]
    cfg = GPTConfig(
        n_layer=p["n_layer"],
        n_head=p["n_head"],
        n_embd=p["n_embd"],
        block_size=p["block_size"],
        dropout=s.dropout,
    )
    return cfg, s.batch_size
