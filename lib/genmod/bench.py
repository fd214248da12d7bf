"""`make bench`: how fast this machine runs the project's hot paths.

Measures, in one run: the fp32 GEMM throughput (the ceiling MFU is measured against), the GPT
training step at nanoGPT's CPU recipe config and at the default profile's config (tokens/s,
model FLOPs utilisation), diffusion training (epochs/s) and sampling (points × steps / s).
Optionally times ``make report`` runs. Prints a table and writes ``reports/bench.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import torch

from genmod.io import atomic_write_json
from genmod.paths import REPO_ROOT, REPORTS_DIR
from genmod.runtime import resolve_device, run_metadata


def diffusion_throughput(device: torch.device, epochs: int = 200, T: int = 200) -> dict:
    """Full-batch denoiser training (2000 points, default model) and DDIM sampling (1000
    points) on ``device``: epochs/s and points × steps / s."""
    from genmod.diffusion.data import make_square_data
    from genmod.diffusion.models import Denoiser, DenoiserConfig
    from genmod.diffusion.sampling import sample_ddim, time_grid
    from genmod.diffusion.schedules import ExpSchedule
    from genmod.diffusion.train import TrainConfig, fit

    schedule = ExpSchedule()
    torch.manual_seed(0)
    model = Denoiser(DenoiserConfig(), schedule).to(device)
    x0 = make_square_data(2000, seed=0)
    fit(model, TrainConfig(epochs=5), x0, schedule=schedule)  # warm-up
    t0 = time.perf_counter()
    fit(model, TrainConfig(epochs=epochs), x0, schedule=schedule)
    train_s = time.perf_counter() - t0
    z = torch.randn(1000, 2, device=device)
    with torch.inference_mode():
        t0 = time.perf_counter()
        sample_ddim(model, z, time_grid(T).to(device), schedule)
        sample_s = time.perf_counter() - t0
    return {
        "train_epochs_per_second": epochs / train_s,
        "sample_points_steps_per_second": 1000 * T / sample_s,
    }


def time_report(profile: str, device: str, extra_env: dict | None = None) -> float:
    """Wall seconds of ``python -m genmod.report`` for a profile (trained models as cached)."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "genmod.report", "--profile", profile, "--device", device],
        cwd=REPO_ROOT,
        check=True,
        env=None if extra_env is None else {**__import__("os").environ, **extra_env},
    )
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m genmod.bench", description=__doc__)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--steps", type=int, default=10, help="GPT training steps timed per config")
    ap.add_argument(
        "--report",
        default="",
        help="comma-separated report timings to take: smoke, default_cold, default_warm",
    )
    ap.add_argument("--out", default=str(REPORTS_DIR / "bench.json"))
    args = ap.parse_args(argv)
    device = resolve_device(args.device)

    from genmod.gpt.bench import NANOGPT_CPU, NANOGPT_CPU_BATCH, gemm_gflops, train_step_throughput

    out: dict = {"meta": run_metadata(device)}
    rows: list[tuple[str, str]] = []
    out["gemm_gflops"] = gemm_gflops(device=device)
    rows.append(("fp32 GEMM (2048³)", f"{out['gemm_gflops']:.1f} GFLOP/s"))

    from genmod.sections.autoregressive_gpt.config import bench_config

    out["gpt"] = {}
    plain = {"loss_chunk": 0, "fused_adamw": False}  # full logits + F.cross_entropy, AdamW
    runs = (
        ("nanogpt_cpu_config", NANOGPT_CPU, NANOGPT_CPU_BATCH, {}),
        ("nanogpt_cpu_config_plain", NANOGPT_CPU, NANOGPT_CPU_BATCH, plain),
        ("default", *bench_config("default"), {}),
    )
    for key, cfg, batch, kw in runs:
        r = train_step_throughput(
            cfg, batch=batch, steps=args.steps, device=device, peak_gflops=out["gemm_gflops"], **kw
        )
        out["gpt"][key] = r
        rows.append(
            (
                f"GPT step, {key}",
                f"{r['tokens_per_second']:,.0f} tokens/s, MFU {100 * r['mfu']:.1f} %",
            )
        )
    speedup = (
        out["gpt"]["nanogpt_cpu_config"]["tokens_per_second"]
        / out["gpt"]["nanogpt_cpu_config_plain"]["tokens_per_second"]
    )
    out["gpt"]["fast_over_plain"] = speedup
    rows.append(("GPT fast path / plain", f"{speedup:.2f}×"))

    out["diffusion"] = diffusion_throughput(device)
    rows.append(
        ("diffusion training", f"{out['diffusion']['train_epochs_per_second']:,.1f} epochs/s")
    )
    rows.append(
        (
            "diffusion sampling",
            f"{out['diffusion']['sample_points_steps_per_second']:,.0f} points·steps/s",
        )
    )

    report = {}
    for what in filter(None, (w.strip() for w in args.report.split(","))):
        if what == "smoke":
            report["smoke_seconds"] = time_report("smoke", args.device)
        elif what == "default_cold":
            import shutil

            shutil.rmtree(REPO_ROOT / "cache", ignore_errors=True)
            report["default_cold_seconds"] = time_report("default", args.device)
        elif what == "default_warm":
            report["default_warm_seconds"] = time_report("default", args.device)
        else:
            raise SystemExit(f"--report: {what!r} is not one of smoke, default_cold, default_warm")
    if report:
        out["report"] = report
        rows += [
            (f"make report ({k.removesuffix('_seconds')})", f"{v:.0f} s") for k, v in report.items()
        ]

    width = max(len(r[0]) for r in rows)
    print(f"genmod bench on {out['meta']['device']} ({out['meta']['torch_threads']} threads)")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    atomic_write_json(args.out, out)
    print(f"wrote {args.out}")
    return out


if __name__ == "__main__":
    main()
