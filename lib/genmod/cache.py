"""Trained-model cache: reuse a model only when its full configuration matches.

Layout: ``<cache_dir>/<name>-<key>.pt`` (the payload, saved with ``torch.save``) and
``<name>-<key>.json`` (the manifest: configuration, payload sha256, library versions).
``key`` hashes the configuration, so different configurations never collide. Both files are
written atomically, the payload first: a run killed mid-save leaves either the old pair or
no manifest, never a manifest pointing at a partial payload. On load, a missing manifest, a
configuration that differs, a checksum that does not match (truncated or corrupt file) or a
payload that fails to load is reported in one line and treated as a miss.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from genmod.io import atomic_write, atomic_write_json, sha256_file, to_jsonable
from genmod.paths import resolve_path

MANIFEST_VERSION = 1


def config_key(config: dict) -> str:
    """A short stable hash of a JSON-able configuration."""
    canon = json.dumps(to_jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:16]


def _versions() -> dict:
    import numpy

    return {"torch": torch.__version__, "numpy": numpy.__version__}


class ModelCache:
    def __init__(self, cache_dir: str | os.PathLike, log: Callable[[str], None] = print):
        self.dir = resolve_path(cache_dir)  # a relative path is taken from the repository root
        self.log = log

    def paths(self, name: str, config: dict) -> tuple[Path, Path]:
        stem = f"{name}-{config_key(config)}"
        return self.dir / f"{stem}.pt", self.dir / f"{stem}.json"

    def load(self, name: str, config: dict) -> dict | None:
        """The cached payload for exactly this configuration, or None (with a reason logged)."""
        payload_path, manifest_path = self.paths(name, config)
        if not manifest_path.exists():
            return None
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            self.log(f"cache: {manifest_path.name} is unreadable ({e}); retraining")
            return None
        if manifest.get("config") != to_jsonable(config):
            self.log(f"cache: {manifest_path.name} is for another configuration; retraining")
            return None
        if not payload_path.exists():
            self.log(f"cache: {payload_path.name} is missing; retraining")
            return None
        if sha256_file(payload_path) != manifest.get("sha256"):
            self.log(f"cache: {payload_path.name} is truncated or corrupt (checksum); retraining")
            return None
        try:
            return torch.load(payload_path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any load failure means: do not trust it
            self.log(f"cache: {payload_path.name} failed to load ({type(e).__name__}); retraining")
            return None

    def save(self, name: str, config: dict, payload: dict) -> Path:
        payload_path, manifest_path = self.paths(name, config)
        buf = io.BytesIO()
        torch.save(payload, buf)
        data = buf.getvalue()
        atomic_write(payload_path, lambda f: f.write(data))
        atomic_write_json(
            manifest_path,
            {
                "manifest_version": MANIFEST_VERSION,
                "name": name,
                "config": config,
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "versions": _versions(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )
        return payload_path


def load_or_train(
    cache_dir: str | os.PathLike | None,
    name: str,
    config: dict,
    train: Callable[[], dict],
    *,
    retrain: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[dict, bool]:
    """Return ``(payload, from_cache)``: the cached payload for ``config``, else ``train()``'s.

    ``config`` must hold everything that determines the result (hyper-parameters, seed, data
    checksum, device type where it matters). ``cache_dir=None`` disables caching.
    """
    if cache_dir is None:
        return train(), False
    cache = ModelCache(cache_dir, log=log)
    if not retrain:
        payload = cache.load(name, config)
        if payload is not None:
            return payload, True
    payload: Any = train()
    cache.save(name, config, payload)
    return payload, False
