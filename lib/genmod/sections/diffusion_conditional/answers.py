"""Section 02's answers: the questions, and where each answer comes from.

Every question is a finding with templates: C1-C5 in :mod:`.findings` (:mod:`.findings_c5`,
:mod:`.findings_c5_data`), C6 and the bonus in :mod:`.findings_probes`; no answer function is
left. Convention: ``±`` is one standard error; a difference within two standard errors is
"within the noise".
"""

from __future__ import annotations

from genmod.sections.diffusion_conditional import findings, findings_probes
from genmod.sections.summary import Question

#: Questions answered by an answer function: none (every one is a finding)
ANSWERS: dict = {}
#: Questions answered by a finding and its templates (C1-C5 here, C6 and the bonus there)
FINDINGS = {**findings.FINDINGS, **findings_probes.FINDINGS}
TEMPLATES = findings.TEMPLATES


# --------------------------------------------------------------------------- short answers
QUESTIONS = {
    "C1": Question(
        "The training data coloured by class", "Show the training data coloured by class."
    ),
    "C2": Question(
        "How the class enters the model, and which equations change",
        "How was the class inserted, and which equations change?",
    ),
    "C3": Question(
        "One sample per class: trajectories and an in-region check",
        "Sample one point per class, draw each path in its class colour, and check by "
        "computation that each end point lies in its class region.",
    ),
    "C4": Question(
        "Conditional samples, coloured by class",
        "Show at least 1000 conditional samples coloured by class.",
    ),
    "C5": Question(
        "Analysis: which classes are harder, and why",
        "Per-class accuracy (the share of a class's samples inside its region): which classes "
        "are harder, and why; does the spatial distribution match the data?",
    ),
    "C6": Question(
        "Probability estimates log p(x | c) at probe points",
        "Estimate log p(x | c) with −L_T at five or more points inside and outside the data, "
        "including one location under two classes (one matching, one not); what happens when "
        "the location or the class does not match?",
    ),
    "Bonus": Question(
        "Making the model output a given target point",
        "Make a trained model output the far-away point (4, 5.5) as a sample; describe every "
        "attempt with its measured final distance and plot the path.",
    ),
}

HEADLINES: dict = {}
