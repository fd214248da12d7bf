"""Shared helpers for the GPT tests: a short text written for the tests and a tiny model."""

from __future__ import annotations

import functools

import torch

# A short text written for these tests (not the book).
TEST_TEXT = (
    "The little robot walked to the market every morning. "
    "It bought three red apples and a loaf of bread. "
    "The baker smiled at the robot and said good morning. "
    "The robot said good morning to the baker and went home. "
    "At home the robot ate nothing, because robots do not eat apples. "
) * 6


@functools.lru_cache(maxsize=1)
def tiny_trained():
    """A tiny GPT (full 50257 vocabulary) trained briefly on TEST_TEXT; (model, payload)."""
    from genmod.gpt.data import make_splits
    from genmod.gpt.train import TrainConfig, model_from_payload, train

    cfg = TrainConfig(
        n_layer=2,
        n_head=2,
        n_embd=32,
        block_size=32,
        dropout=0.0,
        batch_size=8,
        max_iters=60,
        lr=1e-2,
        warmup_iters=5,
        eval_interval=20,
        train_eval_tokens=256,
    )
    # One thread: on a busy shared CPU small ops are much faster without thread hand-offs.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        payload = train(make_splits(TEST_TEXT), cfg, progress=False)
    finally:
        torch.set_num_threads(threads)
    return model_from_payload(payload), payload
