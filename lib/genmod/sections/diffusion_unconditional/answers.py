"""Section 01's answers: every answer is a finding (``findings``, ``findings_*``) rendered
through its templates (``templates/``); here are the questions and the tables the notebook
shows beside the answers (their cells are the record's numbers, printed).

Convention: ``±`` is one standard error.
"""

from __future__ import annotations

from genmod.sections.diffusion_unconditional import findings_u3
from genmod.sections.diffusion_unconditional.findings import FINDINGS, TEMPLATES  # noqa: F401
from genmod.sections.markdown import pct, table
from genmod.sections.summary import Question

#: Every answer of the section is rendered from its finding.
ANSWERS: dict = {}
HEADLINES: dict = {}


# ---------------------------------------------------------------- tables
def _row(m: dict) -> list[str]:
    """Table cells of a metrics dict: inside, edge band, energy distance, KS p-values."""
    return [
        pct(m["inside_fraction"]),
        f"{m['edge_band']:.3f}",
        f"{m['energy_distance']:.5f}",
        f"{m['ks']['x']['pvalue']:.3f}, {m['ks']['y']['pvalue']:.3f}" if m["ks"] else "",
    ]


def u3_table(rec: dict) -> str:
    """U3's table: seed 0, the seeds' mean (no KS test of a mean), the oracle, a truth sample."""
    rows = [[name] + _row(m) for name, m in findings_u3.u3_rows(rec)]
    return table(["", "inside", "edge band", "energy distance", "KS p (x, y)"], rows)


def u4_table(rec: dict) -> str:
    st = rec["steps"]
    rows = [
        [T_, pct(a), f"{b:.3f}", f"{c:.5f}", pct(d), f"{e:.3f}", f"{f:.5f}"]
        for T_, a, b, c, d, e, f in zip(
            st["T_values"],
            st["inside_fraction"],
            st["edge_band"],
            st["energy_distance"],
            st["oracle_inside_fraction"],
            st["oracle_edge_band"],
            st["oracle_energy_distance"],
        )
    ]
    head = ["T", "inside (learned)", "edge band", "energy distance"]
    return table(head + ["inside (oracle)", "edge (oracle)", "ED (oracle)"], rows)


def study_table(rec: dict) -> str:
    rows = [
        [r["label"], nf, f"{d:.5f}", pct(i), f"{e:.3f}"]
        for r in rec["samplers"].values()
        for nf, d, i, e in zip(r["nfe"], r["energy_distance"], r["inside_fraction"], r["edge_band"])
    ]
    return table(["sampler", "NFE", "energy distance", "inside", "edge band"], rows)


def u5_table(rec: dict) -> str:
    rows = [
        [r["label"], r["nfe"]]
        + _row(r["learned"])
        + [pct(r["oracle"]["inside_fraction"]), f"{r['oracle']['edge_band']:.3f}"]
        for r in rec["ablation"].values()
    ]
    head = ["sampler", "NFE", "inside", "edge band", "energy distance", "KS p (x, y)"]
    return table(head + ["oracle: inside", "oracle: edge"], rows)


# ---------------------------------------------------------------- questions
QUESTIONS = {
    "U1": Question(
        "Forward process of one point",
        "Show the forward process of one point that starts outside the square, as a 2D path "
        "coloured by t. The path must be the discretised forward SDE, whose marginal at every t "
        "is x_0 + σ(t)ε (increments of variance σ²(t + dt) − σ²(t)).",
    ),
    "U2": Question("Denoiser training loss", "Plot the denoiser's training loss over training."),
    "U3": Question(
        "Nine samplings with nine seeds",
        "Show nine samplings of 1000 points with nine seeds on a 3×3 grid, the true square on "
        "each panel, and the initial noise beside a result.",
    ),
    "U4": Question(
        "Number of sampling steps",
        "Sample with several numbers of steps T; how does T change the result? Answer with a "
        "measured quality per T.",
    ),
    "U5": Question(
        "An improved sampler",
        "Modify the sampler or its schedule; plot the original and the modified σ(t) as sampled "
        "by their time grids; describe the choice and give rules of thumb for an effective "
        "sampler, each backed by a measurement.",
    ),
    "U6": Question(
        "The same noise, ten times",
        "Feed the same noise ten times to the reverse process: are the outputs the same? If so, "
        "use the stochastic sampler (λ > 0) and show that they now differ; plot the denoising "
        "paths of four points.",
    ),
}
