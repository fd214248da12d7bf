"""Section 02's finding for C5, the data's part: memorisation per class (the learned model's
ratio against the oracle's and against the target) and the stored data-size study (where its
numbers come from, and whether its setting is this run's). The prose is in
``templates/c5.memorisation.md.j2`` and ``templates/c5.study.md.j2``.

Memorisation ratios carry a bootstrap standard error; the learned and the oracle's ratio are
compared at two standard errors of their difference. Convention: ``±`` is one standard
error.
"""

from __future__ import annotations

import math

from genmod.sections.diffusion_conditional.config import TARGETS
from genmod.sections.diffusion_conditional.findings_common import named, num
from genmod.sections.findings import above, at_least, claim, differs, equal


def memorisation(rec: dict, names) -> tuple[list, dict]:
    """Per class: the learned and the oracle's memorisation ratios (± one standard error),
    the learned one against the oracle's (c5.mem_vs_oracle_<c>: more | less | same) and
    against the target (c5.mem_target_<c>); a class without training points has no ratio
    (c5.mem_empty_<c>)."""
    k, mem, target = len(names), rec["memorisation"], TARGETS["min_memorisation"]
    claims, rows = [], []
    groups: dict[str, list[int]] = {"less": [], "more": [], "below": [], "empty": []}
    for c in range(k):
        ml, mo = mem["learned"][str(c)], mem["oracle"][str(c)]
        empty = claim(f"c5.mem_empty_{c}", equal, value=ml["n_train"], other=0)
        claims.append(empty)
        if empty.outcome:
            groups["empty"].append(c)
            continue
        r_l, se_l, r_o, se_o = (num(x) for x in (ml["ratio"], ml["ratio_stderr"],
                                                 mo["ratio"], mo["ratio_stderr"]))  # fmt: skip
        vs = claim(f"c5.mem_vs_oracle_{c}", differs, diff=r_l - r_o, se=math.hypot(se_l, se_o))
        met = claim(f"c5.mem_target_{c}", at_least, value=r_l, threshold=target)
        claims += [vs, met]
        if vs.outcome in ("less", "more"):
            groups[vs.outcome].append(c)
        if not met.outcome:
            groups["below"].append(c)
        rows.append({"id": c, "learned": r_l, "learned_se": se_l, "oracle": r_o,
                     "oracle_se": se_o, "n_train": ml["n_train"]})  # fmt: skip
    claims += [
        claim(f"c5.mem_any_{w}", above, value=len(g), threshold=0) for w, g in groups.items()
    ]
    smallest = min(groups["below"], key=lambda c: num(mem["learned"][str(c)]["ratio"]),
                   default=None)  # fmt: skip
    figures = {
        "rows": rows, "n": mem["learned"]["0"]["n"], "target": target, "rated": len(rows),
        "lower": groups["less"], "higher": groups["more"], "below": groups["below"],
        "empty": groups["empty"],
        "smallest": None if smallest is None else {
            **named([smallest], names)[0],
            "ratio": num(mem["learned"][str(smallest)]["ratio"]),
            "n_train": mem["learned"][str(smallest)]["n_train"]},
    }  # fmt: skip
    return claims, figures


def study(rec: dict) -> tuple[list, dict]:
    """The stored data-size study (``data_size_study``, the workflow's summary of
    :mod:`.studies`): whether one is stored (c5.study_stored), where its numbers come from,
    whether its setting is this run's (c5.study_matches), and at which sizes every seed met
    all four targets."""
    st = rec["data_size_study"]
    claims = [claim("c5.study_stored", equal, value=st["stored"], other=True)]
    if not st["stored"]:
        return claims, {"source": st["source"], "command": st["command"]}
    rows = st["rows"]
    met = [r["n_points"] for r in rows if r["seeds_meeting_targets"] == len(r["seeds"])]
    claims += [
        claim("c5.study_matches", equal, value=st["matches"], other=True),
        claim("c5.study_uncommitted", equal, value=st["uncommitted_changes"], other=True),
        claim("c5.study_any_size_met", above, value=len(met), threshold=0),
    ]
    figures = {
        **{key: st[key] for key in ("source", "command", "date", "device", "seeds", "sizes",
                                    "T", "adam_steps", "differences", "targets")},
        "commit": st["commit"][:10], "first": rows[0], "last": rows[-1], "met": met,
        "rows": rows,
    }  # fmt: skip
    return claims, figures
