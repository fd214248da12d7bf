"""Notebook parameters: profile resolution and validation.

Every notebook has a ``parameters`` cell whose budget-like values default to ``None``
("take the profile's value"); :func:`resolve` fills them from the section's profile table
and validates each value before any work is done. Errors are one-line ``ValueError`` s that
name the parameter, the value and what is accepted.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from genmod.runtime import check_device_name

PROFILES = ("smoke", "default", "full")


def parse_value(text: str) -> Any:
    """A value typed on the command line (``-p NAME=VALUE``, ``--set NAME=VALUE``): JSON
    (``500``, ``true``, ``[1, 2]``), else a Python literal (``True``, ``(1, 2)``), else the text
    itself as a string."""
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text)
        except (ValueError, SyntaxError):
            pass
    return text


#: The parameters every section notebook has, checked by :func:`resolve` itself.
COMMON_PARAMETERS = ("device", "seed", "profile", "results_path", "cache_dir", "retrain")


def check_profile(profile: Any) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r}: accepted: {' | '.join(PROFILES)}")
    return profile


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        # papermill may pass floats like 3.0 from YAML; accept exact integers.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name}={value!r}: expected an integer{_range(lo, hi)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name}={value!r}: expected an integer{_range(lo, hi)}")
    return value


def check_float(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}={value!r}: expected a finite number{_range(lo, hi)}")
    value = float(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name}={value!r}: expected a number{_range(lo, hi)}")
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r}: expected True or False")
    return value


def check_str(name: str, value: Any, nonempty: bool = True) -> str:
    if not isinstance(value, str) or (nonempty and not value.strip()):
        raise ValueError(f"{name}={value!r}: expected a non-empty string")
    return value


def check_list(
    name: str,
    value: Any,
    item: Callable[[str, Any], Any],
    min_len: int = 1,
    max_len: int | None = None,
) -> list:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"{name}={value!r}: expected a list")
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        n = f"{min_len}" + (f"–{max_len}" if max_len is not None else " or more")
        raise ValueError(f"{name}={value!r}: expected a list of {n} items")
    return [item(f"{name}[{i}]", v) for i, v in enumerate(value)]


def _range(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f" in [{lo}, {hi}]"
    if lo is not None:
        return f" ≥ {lo}"
    if hi is not None:
        return f" ≤ {hi}"
    return ""


def resolve(
    given: Mapping[str, Any],
    profiles: Mapping[str, Mapping[str, Any]],
    checks: Mapping[str, Callable[[str, Any], Any]],
) -> dict:
    """Fill ``None`` values from ``profiles[given['profile']]`` and validate every parameter.

    ``given`` holds every notebook parameter (the :data:`COMMON_PARAMETERS` included, which
    are checked here: ``cache_dir`` may be None);
    ``checks`` maps a parameter to ``check(name, value) -> normalised value``. Parameters
    without a check are passed through. Returns the parameters as used.
    """
    params = dict(given)
    profile = check_profile(params.get("profile", "default"))
    params["device"] = check_device_name(params.get("device", "auto"))
    params["seed"] = check_int("seed", params.get("seed", 0), 0, 2**32 - 1)
    if "results_path" in params:
        params["results_path"] = check_str("results_path", params["results_path"])
    if "retrain" in params:
        params["retrain"] = check_bool("retrain", params["retrain"])
    if params.get("cache_dir") is not None:  # None: no model cache
        params["cache_dir"] = check_str("cache_dir", params["cache_dir"])
    table = profiles[profile]
    for key, value in table.items():
        if params.get(key) is None:
            params[key] = value
    for key, check in checks.items():
        if key not in params or params[key] is None:
            raise ValueError(f"{key}=None: no value given and profile {profile!r} sets none")
        params[key] = check(key, params[key])
    return params
