"""The execution cache: a section whose inputs have not changed is not executed again.

A section's *key* hashes everything its execution depends on:

- ``notebook``: the notebook's cells (type, source, metadata; outputs and counts aside);
- ``parameters``: the parameters it runs with, after profile resolution (the section's
  ``genmod.sections.<section>.config.resolve_params`` when that module exists, else the
  notebook's defaults overlaid with the given values, profile included);
- ``package``: the source of the ``genmod`` package (every file under ``lib/genmod`` but
  ``__pycache__`` and the report build itself, which shapes the page, not the execution);
- ``data``: the sha256 of each file listed in ``data/SHA256SUMS`` and of any file a
  ``*_path`` parameter names;
- ``torch``: the torch version; ``device``: the device ``device`` resolves to.

Layout, like the model cache (:mod:`genmod.cache`): ``<cache_dir>/executed/<stem>-<key>.ipynb``
(the executed notebook), ``<stem>-<key>.results.json`` and ``<stem>-<key>.json`` (the
manifest: key, its components, each file's sha256). Every file is written atomically, the
manifest last, so a build killed mid-save leaves no manifest. An entry is reused only when its
manifest is readable, names the same key and every file matches its checksum; otherwise it is
reported as damaged, in one line, and the section runs. The newest :data:`KEEP` entries of a
section are kept, so switching back to earlier parameters reuses their run.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genmod.io import atomic_write, atomic_write_json, to_jsonable

#: Bump when what an execution produces changes for reasons the key cannot see (e.g. how the
#: build runs notebooks); every entry written before is then out of date.
KEY_VERSION = 1
#: Entries kept per section (the newest ones).
KEEP = 5
#: Package folders the kernel never imports: the report build itself.
_BUILD_ONLY = ("report",)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(obj: Any) -> str:
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------------------
# Key components
# --------------------------------------------------------------------------------------


def notebook_digest(path: Path) -> str:
    """The sha256 of a notebook file's cells as they execute (see :func:`notebook_digest_of`)."""
    return notebook_digest_of(json.loads(Path(path).read_text(encoding="utf-8")))


def notebook_digest_of(nb: dict) -> str:
    """The sha256 of a notebook's kernel and cells (type, source, metadata); outputs,
    execution counts and cell ids aside."""
    cells = []
    for cell in nb.get("cells", []):
        meta = {k: v for k, v in cell.get("metadata", {}).items() if k != "execution"}
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        cells.append([cell.get("cell_type"), source, meta])
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    return _sha256(_canonical({"kernel": kernel, "cells": cells}).encode())


def package_files(package_dir: Path) -> list[Path]:
    """The package's files the kernel can see, sorted (see the module docstring)."""
    package_dir = Path(package_dir)
    files = []
    for root, dirs, names in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in names:
            if name.endswith((".pyc", ".pyo")) or name.startswith("."):
                continue
            path = Path(root) / name
            rel = path.relative_to(package_dir).as_posix()
            if rel.split("/", 1)[0] in _BUILD_ONLY:
                continue
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(package_dir).as_posix())


def package_digest(package_dir: Path) -> str:
    """The sha256 over the relative paths and contents of :func:`package_files`."""
    h = hashlib.sha256()
    for path in package_files(package_dir):
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        h.update(_sha256(path.read_bytes()).encode() + b"\n")
    return h.hexdigest()


def _file_sha(path: Path) -> str:
    from genmod.io import sha256_file

    return sha256_file(path) if path.is_file() else "missing"


def data_digest(data_dir: Path, params: dict) -> dict[str, str]:
    """sha256 of each file ``data/SHA256SUMS`` lists and of each file a ``*_path`` names."""
    from genmod.paths import resolve_path

    data_dir = Path(data_dir)
    digest: dict[str, str] = {}
    sums = data_dir / "SHA256SUMS"
    if sums.is_file():
        for line in sums.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                name = parts[-1].lstrip("*")
                digest[name] = _file_sha(data_dir / name)
    for key, value in sorted(params.items()):
        if key.endswith("_path") and key != "results_path" and isinstance(value, str) and value:
            path = resolve_path(value)
            if path.is_file():
                digest[f"{key}={value}"] = _file_sha(path)
    return digest


def notebook_defaults(path: Path) -> dict[str, Any]:
    """The notebook's parameters with their default values (papermill's ``inspect_notebook``).

    A default that is not a Python literal is kept as its source text (the notebook's digest
    covers it anyway).
    """
    import papermill as pm

    defaults = {}
    for name, info in pm.inspect_notebook(str(path)).items():
        text = info.get("default", "None")
        try:
            defaults[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            defaults[name] = text
    return defaults


def section_config(stem: str):
    """``genmod.sections.<section>.config`` for notebook ``0N_<section>``, or None."""
    number, sep, section = stem.partition("_")
    if not (sep and number.isdigit() and section.isidentifier()):
        return None
    name = f"genmod.sections.{section}.config"
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:  # no genmod.sections.<section> package
        return None
    return importlib.import_module(name)


def resolve_parameters(stem: str, given: dict) -> dict:
    """The parameters after profile resolution (see the module docstring).

    Raises what the section's ``resolve_params`` raises for an invalid value.
    """
    config = section_config(stem)
    if config is None or not all(k in given for k in getattr(config, "PARAMETERS", ())):
        return dict(given)
    resolved = config.resolve_params({k: given[k] for k in config.PARAMETERS})
    return {**given, **resolved}


@dataclass
class Key:
    """A section's cache key: the hash of its components."""

    components: dict

    @property
    def digest(self) -> str:
        return _sha256(_canonical({"v": KEY_VERSION, **self.components}).encode())[:16]


def section_key(
    notebook: Path, given: dict, package_dir: Path, data_dir: Path, package: str | None = None
) -> Key:
    """The key of running ``notebook`` with parameters ``given`` (the notebook's defaults
    overlaid with the build's values). ``package``: a precomputed :func:`package_digest`.

    Raises ``ValueError`` when the parameters or the device do not resolve (the notebook
    then runs and stops in its parameters cell with that error).
    """
    import torch

    from genmod.runtime import resolve_device

    params = resolve_parameters(notebook.stem, given)
    return Key(
        {
            "notebook": notebook_digest(notebook),
            # where results.json goes changes no number: a run is reused wherever it is wanted
            "parameters": to_jsonable({k: v for k, v in params.items() if k != "results_path"}),
            "package": package or package_digest(package_dir),
            "data": data_digest(data_dir, params),
            "torch": torch.__version__,
            "device": str(resolve_device(str(params.get("device", "auto")))),
        }
    )


def what_changed(old: dict, new: dict) -> str:
    """Why a section runs again, from the components of its previous run and this one."""
    reasons = []
    if old.get("notebook") != new.get("notebook"):
        reasons.append("notebook changed")
    p_old, p_new = old.get("parameters") or {}, new.get("parameters") or {}
    changed = [k for k in p_new if p_old.get(k, ...) != p_new[k]]
    changed += [k for k in p_old if k not in p_new]
    if changed:
        shown = ", ".join(changed[:6]) + (
            f" and {len(changed) - 6} more" if len(changed) > 6 else ""
        )
        reasons.append(f"parameters changed: {shown}")
    if old.get("package") != new.get("package"):
        reasons.append("package changed")
    if old.get("data") != new.get("data"):
        names = sorted(
            k
            for k in {*old.get("data", {}), *new.get("data", {})}
            if old.get("data", {}).get(k) != new.get("data", {}).get(k)
        )
        reasons.append(f"data changed: {', '.join(names)}")
    for name in ("torch", "device"):
        if old.get(name) != new.get(name):
            reasons.append(f"{name} changed ({old.get(name)} → {new.get(name)})")
    return ", ".join(reasons) or "cache format changed"


# --------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------


@dataclass
class Entry:
    """A validated cache entry: the executed notebook's and results' bytes."""

    stem: str
    key: str
    manifest: dict
    notebook: bytes
    results: bytes | None

    @property
    def created(self) -> str:
        return str(self.manifest.get("created", "?"))


@dataclass
class Lookup:
    """The outcome of :meth:`ExecutionCache.lookup`: an entry to reuse, or why to run."""

    entry: Entry | None = None
    reason: str = "no previous run"
    damaged: bool = False
    components: dict = field(default_factory=dict)


class ExecutionCache:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def paths(self, stem: str, key: str) -> tuple[Path, Path, Path]:
        """(notebook, results, manifest) of the entry ``stem``-``key``."""
        base = self.root / f"{stem}-{key}"
        return (
            base.with_name(base.name + ".ipynb"),
            base.with_name(base.name + ".results.json"),
            base.with_name(base.name + ".json"),
        )

    def _manifests(self, stem: str) -> list[tuple[float, dict, Path]]:
        """Readable manifests of ``stem``, newest first."""
        found = []
        for path in self.root.glob(f"{stem}-*.json"):
            if path.name.endswith(".results.json"):
                continue
            try:
                manifest = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(manifest, dict) and manifest.get("section") == stem:
                found.append((float(manifest.get("created_unix", 0.0)), manifest, path))
        return sorted(found, key=lambda item: item[0], reverse=True)

    def lookup(self, stem: str, key: Key) -> Lookup:
        digest = key.digest
        nb_path, res_path, man_path = self.paths(stem, digest)
        if man_path.exists():
            entry, problem = self._load(stem, digest, nb_path, res_path, man_path)
            if entry is not None:
                return Lookup(entry=entry, reason=f"reused (key {digest})")
            return Lookup(reason=f"cached run {man_path.stem} is damaged ({problem})", damaged=True)
        previous = self._manifests(stem)
        if not previous:
            return Lookup(reason="no previous run")
        return Lookup(reason=what_changed(previous[0][1].get("components", {}), key.components))

    def _load(self, stem, digest, nb_path, res_path, man_path) -> tuple[Entry | None, str]:
        try:
            manifest = json.loads(man_path.read_text())
        except (OSError, ValueError) as err:
            return None, f"manifest unreadable: {type(err).__name__}"
        if not isinstance(manifest, dict) or manifest.get("key") != digest:
            return None, "manifest names another key"
        files = manifest.get("files", {})
        data = {}
        for name, path in (("notebook", nb_path), ("results", res_path)):
            expected = files.get(name)
            if expected is None and name == "results":
                data[name] = None
                continue
            if not isinstance(expected, dict) or not path.is_file():
                return None, f"{name} missing"
            data[name] = path.read_bytes()
            if _sha256(data[name]) != expected.get("sha256"):
                return None, f"{name} checksum mismatch"
        return Entry(stem, digest, manifest, data["notebook"], data["results"]), ""

    def save(self, stem: str, key: Key, notebook: Path, results: Path | None) -> Path:
        """Store the executed ``notebook`` and its ``results`` (manifest written last)."""
        digest = key.digest
        nb_path, res_path, man_path = self.paths(stem, digest)
        files = {}
        for name, src, dest in (("notebook", notebook, nb_path), ("results", results, res_path)):
            if src is None or not Path(src).is_file():
                continue
            data = Path(src).read_bytes()
            atomic_write(dest, lambda f, data=data: f.write(data))
            files[name] = {"name": dest.name, "sha256": _sha256(data), "bytes": len(data)}
        now = time.time()
        atomic_write_json(
            man_path,
            {
                "manifest_version": KEY_VERSION,
                "section": stem,
                "key": digest,
                "components": key.components,
                "files": files,
                "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)),
                "created_unix": now,
            },
        )
        self.prune(stem)
        return man_path

    def prune(self, stem: str, keep: int = KEEP) -> None:
        """Delete all but the ``keep`` newest entries of ``stem``."""
        for _, manifest, path in self._manifests(stem)[keep:]:
            for victim in self.paths(stem, str(manifest.get("key")))[:2] + (path,):
                victim.unlink(missing_ok=True)


def restore(entry: Entry, notebook: Path, results: Path) -> None:
    """Put an entry's notebook and results where the build reads them (atomically; a file
    that already holds the same bytes is left alone)."""
    for data, dest in ((entry.notebook, notebook), (entry.results, results)):
        if data is None:
            Path(dest).unlink(missing_ok=True)
            continue
        if Path(dest).is_file() and Path(dest).stat().st_size == len(data):
            if _sha256(Path(dest).read_bytes()) == _sha256(data):
                continue
        atomic_write(dest, lambda f, data=data: f.write(data))
