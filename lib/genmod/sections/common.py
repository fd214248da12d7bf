"""What every section notebook shares: one setup, one way to run a step, answer and finish.

A notebook's first code cell is ::

    from genmod.sections import common
    from genmod.sections.diffusion_unconditional import answers, config, figures, workflow

    run = common.start(config, answers, globals())
    p, st, dev = run.params, run.settings, run.device

which reads the notebook's parameters (the names in ``config.PARAMETERS``) from the
namespace papermill filled, resolves and validates them (one-line ``ValueError`` before any
work), resolves the device, sets the CPU threads, seeds every generator, applies the figure
style and opens the results record.

Every section's workflow is written the same way. A step is a function of explicit inputs:
the run's parameters ``p`` (a dict), the profile's settings ``st``, the device, and the
outcomes of earlier steps. It draws its random numbers from named streams
(:class:`genmod.runtime.Streams`: the run's seed and a name, never the order of the calls)
and returns a :class:`Step`: its results.json records plus the objects that later steps and
the figures need. The notebook calls each step as ``out = run.step(workflow.forward, p, st,
...)``, which times it and stores its records; draws its figures with the section's
``figures`` module from the outcomes; shows each answer with :meth:`Run.answer` (rendered by
the section's answer function from the records, never typed in a cell); and ends with
:meth:`Run.finish`, which writes ``results.json`` atomically.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from genmod.io import atomic_write_json, to_jsonable
from genmod.paths import resolve_path
from genmod.runtime import StageTimer, resolve_device, run_metadata, seed_everything
from genmod.sections.findings import SCHEMA_VERSION, Finding, render
from genmod.sections.markdown import recording_claims, table
from genmod.sections.summary import Headline, Question, headline
from genmod.style import setup_notebook

Answer = Callable[[dict], str]


class Results(dict):
    """The record of one section run: ``section``, ``params``, ``runtime``, ``answers`` and
    one key per measured record. Everything in it is plain JSON (numbers, strings, lists)."""

    def __init__(self, section: str, params: dict, runtime: dict | None = None):
        super().__init__(section=section, params=dict(params), runtime=dict(runtime or {}))
        self["answers"] = {}
        self["questions"] = {}  # question id → {title, text}
        self["headlines"] = {}  # question id → the short answer (see genmod.sections.summary)
        self["claims"] = {}  # question id → the comparisons its answer decided (markdown.compare)

    def write(self, path: str | os.PathLike) -> Path:
        return atomic_write_json(resolve_path(path), self)


@dataclass
class Step:
    """What a workflow step returns: ``records`` (results.json key → plain record) and, as a
    subclass's fields, the tensors and objects that later steps and the figures use."""

    records: dict[str, Any]


def show(markdown: str) -> None:
    """Display Markdown in the notebook (print it outside IPython)."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Markdown(markdown))
    else:
        print(markdown)


@dataclass
class Run:
    """One execution of a section notebook."""

    params: dict
    settings: Any
    device: torch.device
    results: Results
    answers: Mapping[str, Answer]
    timer: StageTimer = field(default_factory=StageTimer)
    questions: Mapping[str, Question] = field(default_factory=dict)
    headlines: Mapping[str, Callable[[dict], Headline]] = field(default_factory=dict)
    findings: Mapping[str, Callable[[dict], Finding]] = field(default_factory=dict)
    templates: Path | None = None  # the folder of the findings' templates

    def stage(self, name: str):
        """``with run.stage("train"): ...`` adds the block's wall-clock seconds to ``name``."""
        return self.timer(name)

    def step(self, fn: Callable[..., Step], *args, stage: str | None = None, **kwargs) -> Step:
        """Run the workflow step ``fn(*args, **kwargs)``, timed as ``stage`` (default: its
        name), store each of its records and return its outcome."""
        with self.stage(stage or fn.__name__):
            out = fn(*args, **kwargs)
        for key, value in out.records.items():
            self.record(key, value)
        return out

    def record(self, key: str, value: Any) -> Any:
        """Store ``value`` (made plain JSON) under ``key`` of the results; return the stored copy."""
        self.results[key] = to_jsonable(value)
        return self.results[key]

    def answer(self, qid: str) -> None:
        """Render question ``qid``'s answer (and, for an exercise question, its short answer)
        from the results recorded so far, record them with the claims they decided, and show
        the answer. A question with a finding (``FINDINGS``) is rendered from its templates;
        one without, by its answer function (``ANSWERS``)."""
        if qid in self.findings:
            finding = self.findings[qid](self.results)
            text = render(self.templates, finding, "full")
            self.results["claims"][qid] = [c.to_json() for c in finding.claims]
            if qid in self.questions:
                short = render(self.templates, finding, "short")
                head = headline(self.results, finding.path, finding.figure, short,
                                finding.verdict, finding.fmt, finding.reduce)  # fmt: skip
        else:
            with recording_claims() as claims:
                text = self.answers[qid](self.results)
            self.results["claims"][qid] = claims
            if qid in self.questions:
                head = self.headlines[qid](self.results)
        self.results["answers"][qid] = text
        if qid in self.questions:
            self.results["questions"][qid] = asdict(self.questions[qid])
            self.results["headlines"][qid] = head.to_json()
        # the anchor lets the write-up link a question's short answer to this one
        show(f'<a id="answer-{qid}" class="gm-answer-anchor"></a>\n\n{text}')

    def finish(self) -> None:
        """Record the stage timings, show them, and write ``results.json`` (atomically).
        Returns None, so that the notebook's last cell shows no value."""
        seconds = dict(self.timer.seconds)
        self.results["runtime"]["seconds"] = seconds
        self.results["runtime"]["total_seconds"] = self.timer.total
        show(
            table(
                ["stage", "seconds"],
                [[k, f"{v:.1f}"] for k, v in seconds.items()]
                + [["total", f"{self.timer.total:.1f}"]],
            )
        )
        path = self.results.write(self.params["results_path"])
        # on stderr: a note for whoever runs the notebook, not a line of the write-up
        print("results written to", path, file=sys.stderr)


def start(
    config: ModuleType, answers: ModuleType | Mapping[str, Answer], namespace: Mapping
) -> Run:
    """Set up a run of the section described by ``config`` (its ``SECTION``, ``PARAMETERS``,
    ``resolve_params`` and ``settings``), with the notebook's parameters read from
    ``namespace`` (the notebook's ``globals()``)."""
    missing = [k for k in config.PARAMETERS if k not in namespace]
    if missing:
        raise ValueError(f"parameters {', '.join(missing)}: not defined in the notebook")
    params = config.resolve_params({k: namespace[k] for k in config.PARAMETERS})
    device = resolve_device(params["device"])
    settings = config.settings(params["profile"])
    threads = getattr(settings, "cpu_threads", None)
    if device.type == "cpu" and threads:
        torch.set_num_threads(threads)
    setup_notebook()
    seed_everything(params["seed"])
    results = Results(config.SECTION, params, runtime=run_metadata(device))
    if hasattr(settings, "to_json"):
        results["settings"] = to_jsonable(settings.to_json())
    if isinstance(answers, ModuleType):
        table_ = getattr(answers, "ANSWERS", {})
        questions = getattr(answers, "QUESTIONS", {})
        headlines = getattr(answers, "HEADLINES", {})
        findings = getattr(answers, "FINDINGS", {})
        templates = getattr(answers, "TEMPLATES", None)
    else:
        table_, questions, headlines, findings, templates = answers, {}, {}, {}, None
    if set(questions) != set(headlines) | (set(findings) & set(questions)):
        raise ValueError(
            f"answers: QUESTIONS {sorted(questions)} ≠ HEADLINES {sorted(headlines)} "
            f"+ FINDINGS {sorted(findings)}"
        )
    results["schema"] = SCHEMA_VERSION
    return Run(
        params=params, settings=settings, device=device, results=results, answers=table_,
        questions=questions, headlines=headlines, findings=findings, templates=templates,
    )  # fmt: skip
