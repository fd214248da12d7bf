"""Section 02's model over several seeds: trains it and samples every class per seed.

``python -m genmod.sections.diffusion_conditional.seeds --seeds 0 1 2 3 4`` runs, for each
seed, the notebook's ``train`` and ``samples`` steps with the profile's settings and prints
the per-class accuracy of the learned model with the exercise's sampler, of the oracle under
the same noise, and of the improved sampler, each class's exact interior log-density error
and each class's memorisation ratio (the median distance from the exercise sampler's samples
to the nearest training point of the class over the same median for fresh true points; learned
and oracle), with the largest oracle − learned gap, the smallest improved accuracy, the
largest log-density error and the smallest memorisation ratio. ``--n-points``, ``--epochs`` and ``--set NAME=VALUE`` try another budget or
training setting. Trained models go to the notebook's model cache, so ``make report`` with
one of these seeds (and the same settings) reuses them.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from genmod import params as P
from genmod.diffusion import conditional as C
from genmod.runtime import resolve_device
from genmod.sections.diffusion_conditional import config
from genmod.sections.diffusion_conditional import workflow as W

#: The check of a ``--set`` value, by the type of the setting it replaces.
_CHECKS = {bool: P.check_bool, int: P.check_int, float: P.check_float, str: P.check_str}


def check_seed(
    seed: int, profile: str = "default", device: str = "cpu", settings=None, **over
) -> dict:
    """One seed: the per-class accuracies (learned, oracle, improved), log-density errors and
    memorisation ratios (learned, oracle), and the training time (``settings``: the profile's
    unless given)."""
    given = {"profile": profile, "seed": seed, "device": device, "cache_dir": "cache"}
    params = config.resolve_params({**given, "retrain": False, "bonus_target": [4.0, 5.5], **over})
    dev = resolve_device(params["device"])
    st = settings or config.settings(profile)
    setup = W.setup(params)
    t0 = time.perf_counter()
    trained = W.train(params, st, setup, dev)
    smp = W.samples(params, st, setup, trained, dev)
    rec = smp.records
    mem = W.memorisation(setup, smp).records["memorisation"]
    K = setup.K
    learned = [rec["samples"]["class_accuracy"][str(c)] for c in range(K)]
    oracle = [rec["samples"]["oracle_class_accuracy"][str(c)] for c in range(K)]
    improved = [rec["improved"]["class_accuracy"][str(c)] for c in range(K)]
    lik = C.interior_likelihood_variants(
        trained.model, setup.partition, setup.schedule, st.interior_per_class,
        setup.streams.generator("likelihood"), dev, rtol=st.lik_tol, atol=st.lik_tol,
    )["matched"]  # fmt: skip
    lik_err = [lik[c]["mean"] - lik[c]["truth"] for c in range(K)]
    return {
        "seed": seed,
        "learned": learned,
        "oracle": oracle,
        "improved": improved,
        "max_gap": max(o - a for o, a in zip(oracle, learned, strict=True)),
        "min_improved": min(improved),
        "lik_err": lik_err,
        "max_lik_err": max(abs(e) for e in lik_err),
        "memorisation": [mem["learned"][str(c)]["ratio"] for c in range(K)],
        "memorisation_oracle": [mem["oracle"][str(c)]["ratio"] for c in range(K)],
        "min_memorisation": min(mem["learned"][str(c)]["ratio"] for c in range(K)),
        "train_seconds": trained.records["train"]["seconds"],
        "from_cache": trained.records["train"]["from_cache"],
        "seconds": time.perf_counter() - t0,
    }


def format_row(r: dict) -> str:
    cells = "  ".join(
        f"{a:.3f}/{o:.3f}/{i:.3f}"
        for a, o, i in zip(r["learned"], r["oracle"], r["improved"], strict=True)
    )
    return (
        f"seed {r['seed']:>3}  {cells}  gap {r['max_gap']:+.3f}  min improved "
        f"{r['min_improved']:.3f}  log p − truth "
        + " ".join(f"{e:+.2f}" for e in r["lik_err"])
        + "  memorisation "
        + " ".join(
            f"{a:.2f}/{o:.2f}"
            for a, o in zip(r["memorisation"], r["memorisation_oracle"], strict=True)
        )
        + f"  train {r['train_seconds']:.0f} s"
        + (" (cached)" if r["from_cache"] else "")
    )


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(
        prog="python -m genmod.sections.diffusion_conditional.seeds", description=__doc__
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=None, help="epochs (the profile's if unset)")
    ap.add_argument(
        "--n-points", type=int, default=None, help="training points (the profile's if unset)"
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a training setting of the profile (e.g. ema_decay=0.999); repeatable",
    )
    args = ap.parse_args(argv)
    over = {
        k: v for k, v in (("epochs", args.epochs), ("n_points", args.n_points)) if v is not None
    }
    settings = config.settings(args.profile)
    changes = {}
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in settings.to_json():
            raise SystemExit(
                f"--set {item!r}: {name!r} is not a setting ({', '.join(settings.to_json())})"
            )
        check = _CHECKS[type(getattr(settings, name))]
        try:
            changes[name] = check(f"--set {name}", P.parse_value(value))
        except ValueError as e:
            raise SystemExit(str(e)) from None
    settings = dataclasses.replace(settings, **changes)
    for s in args.seeds:  # fail early, naming the bad value
        config.resolve_params(
            {"profile": args.profile, "seed": s, "device": args.device, "bonus_target": [4, 5.5]}
            | over
        )
    import torch

    if settings.cpu_threads:
        torch.set_num_threads(settings.cpu_threads)
    print(
        "per class: learned (exercise sampler) / oracle (same noise) / improved sampler; "
        "memorisation ratio learned / oracle"
    )
    rows = []
    for s in args.seeds:
        rows.append(check_seed(s, args.profile, args.device, settings, **over))
        print(format_row(rows[-1]), flush=True)
    worst_gap = max(r["max_gap"] for r in rows)
    worst_imp = min(r["min_improved"] for r in rows)
    worst_lik = max(r["max_lik_err"] for r in rows)
    worst_mem = min(r["min_memorisation"] for r in rows)
    print(
        f"over {len(rows)} seeds: largest oracle − learned gap {worst_gap:+.3f} (target ≤ 0.03), "
        f"smallest improved accuracy {worst_imp:.3f} (target ≥ 0.95), largest |log p − truth| "
        f"{worst_lik:.3f} nats (target ≤ 0.15), smallest memorisation ratio {worst_mem:.2f} "
        "(target ≥ 0.9)"
    )
    return rows


if __name__ == "__main__":
    main()
