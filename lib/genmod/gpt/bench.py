"""Training-step throughput of the GPT (for ``make bench`` and the performance notes).

One step = forward + backward + gradient clipping + AdamW, on random token batches (the
work does not depend on the values). MFU = achieved FLOP/s ÷ a peak FLOP/s; on a CPU the
peak given is the measured fp32 GEMM throughput (:func:`gemm_gflops`).
"""

from __future__ import annotations

import time

import torch

from genmod.gpt.model import GPT, GPTConfig

#: nanoGPT's CPU recipe (shakespeare_char on CPU, with GPT-2's vocabulary as here).
NANOGPT_CPU = GPTConfig(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0)
NANOGPT_CPU_BATCH = 12


def gemm_gflops(n: int = 2048, repeats: int = 10, device: str | torch.device = "cpu") -> float:
    """Best fp32 ``n × n`` matmul throughput in GFLOP/s (2n³ FLOPs per product)."""
    device = torch.device(device)
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def _sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def train_step_throughput(
    config: GPTConfig = NANOGPT_CPU,
    batch: int = NANOGPT_CPU_BATCH,
    steps: int = 10,
    device: str | torch.device = "cpu",
    loss_chunk: int = 1024,
    warmup: int = 2,
    peak_gflops: float | None = None,
    seed: int = 0,
    fused_adamw: bool = True,
) -> dict:
    """Time ``steps`` full training steps; return tokens/s (median and best step), MFU and
    FLOPs per token (6N + 12·L·T·C, PaLM's estimate).

    ``loss_chunk=0, fused_adamw=False`` times the plain path (full logits +
    ``F.cross_entropy``, the default AdamW), as nanoGPT runs on a CPU.
    """
    device = torch.device(device)
    torch.manual_seed(seed)
    model = GPT(config).to(device)
    model.loss_chunk = loss_chunk
    opt = model.configure_optimizer(1e-3, 0.1, fused=fused_adamw)
    x = torch.randint(config.vocab_size, (batch, config.block_size), device=device)
    y = torch.randint(config.vocab_size, (batch, config.block_size), device=device)
    times = []
    for i in range(warmup + steps):
        _sync(device)
        t = time.perf_counter()
        _, loss, _ = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - t)
    times.sort()
    med = times[len(times) // 2]
    tokens = batch * config.block_size
    fpt = model.flops_per_token()
    tps = tokens / med
    peak = peak_gflops if peak_gflops is not None else gemm_gflops(device=device)
    return {
        "tokens_per_second": tps,
        "tokens_per_second_best": tokens / times[0],
        "seconds_per_step": med,
        "flops_per_token": fpt,
        "mfu": tps * fpt / (peak * 1e9),
        "peak_gflops": peak,
        "loss_chunk": loss_chunk,
        "fused_adamw": fused_adamw,
        "batch": batch,
        "config": config.to_dict(),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    import argparse
    import json

    ap = argparse.ArgumentParser(description="GPT training-step throughput")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    peak = gemm_gflops(device=args.device)
    out = {"gemm_gflops": peak}
    variants = (("plain", 0, False), ("fused_adamw", 0, True), ("fast", 1024, True))
    for name, chunk, fused in variants:
        out[name] = train_step_throughput(
            steps=args.steps,
            device=args.device,
            loss_chunk=chunk,
            peak_gflops=peak,
            fused_adamw=fused,
        )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
