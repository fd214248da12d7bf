"""Notebook execution with papermill (kernel ``genmod``), one executed notebook per section.

A notebook runs with ``cwd`` = the notebooks folder and the parameters the build gives it;
papermill saves the executed notebook as it goes into a hidden working file beside the
output, which replaces the output by an atomic rename once the run ends, successfully or
not (a failing or interrupted notebook is kept, whole, for inspection).

Sections that run at the same time each run in a :class:`Worker`: a child process
(``python -m genmod.report.execute SPEC``) that executes one notebook as above. A worker is
in the build's process group, so Ctrl-C reaches it as it reaches the build.

The kernel runs with ``TQDM_DISABLE=1``: a batch run has nobody watching a progress bar,
and a bar drawn into a cell's stdout would otherwise end up in the write-up.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from genmod.report.base import (
    KERNEL_NAME,
    NotebookFailed,
    ReportError,
    first_line,
    log,
    skip_slow_optional_imports,
)

#: Environment of every kernel the build starts. (What changes what an execution produces
#: but not its inputs, as this does, also bumps ``execution_cache.KEY_VERSION``.)
KERNEL_ENV = {"TQDM_DISABLE": "1"}


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """Set :data:`KERNEL_ENV` for the kernels started inside (restored on exit)."""
    saved = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_kernel(kernel_name: str) -> None:
    """The kernel must exist; say so when it runs another Python than this build's."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    install = (
        f"`{sys.executable} -m ipykernel install --sys-prefix --name {kernel_name} "
        f'--display-name "Python ({kernel_name})"`'
    )
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ReportError(
            f"Jupyter kernel {kernel_name!r} is not installed; run `make venv` or {install}"
        ) from None
    exe = spec.argv[0] if spec.argv else ""
    if os.path.isabs(exe) and Path(exe).resolve() != Path(sys.executable).resolve():
        same_env = Path(exe).parent.resolve() == Path(sys.executable).parent.resolve()
        if not same_env:
            log(
                f"report: warning: kernel {kernel_name!r} ({spec.resource_dir}) runs {exe}, "
                f"not this environment's {sys.executable}; to pin it: {install}"
            )


def execute_notebook(
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    cwd: Path,
    kernel_name: str = KERNEL_NAME,
    cell_timeout: int | None = None,
) -> None:
    """Run ``notebook`` with papermill into ``output`` (kept, partial, if it fails)."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    running = output.with_name(f".{output.stem}.running.ipynb")
    try:
        with kernel_environment():
            pm.execute_notebook(
                str(notebook),
                str(running),
                parameters=parameters,
                kernel_name=kernel_name,
                cwd=str(cwd),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=True,
                execution_timeout=cell_timeout,
                # Quiet kernel start-up (e.g. ipykernel's warning about TCP transport); cell
                # output, warnings included, still reaches the notebook.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
    except PapermillExecutionError as err:
        _keep(running, output)
        source = first_line(err.source.splitlines()[0] if err.source.strip() else "", 80)
        raise NotebookFailed(
            f"notebook {notebook.name} failed in cell {err.cell_index} "
            f"(In [{err.exec_count}]: `{source}`): {err.ename}: {first_line(err.evalue)} "
            f"— partially executed notebook kept at {output}",
            notebook,
            err.cell_index,
        ) from None
    except Exception as err:  # dead kernel, cell timeout, missing kernel, …
        _keep(running, output)
        raise NotebookFailed(
            f"notebook {notebook.name} failed: {type(err).__name__}: {first_line(err)}"
            + (f" — partially executed notebook kept at {output}" if output.exists() else ""),
            notebook,
        ) from err
    except BaseException:  # Ctrl-C: keep what ran, never a half-written file
        _keep(running, output)
        raise
    _keep(running, output)
    nbformat.read(output, as_version=4)  # the kept file is a whole notebook


def _keep(running: Path, output: Path) -> None:
    """Move papermill's working file over ``output`` if it is a readable notebook."""
    import nbformat

    if not running.exists():
        return
    try:
        nbformat.read(running, as_version=4)
    except Exception:
        running.unlink(missing_ok=True)
        return
    os.replace(running, output)


class Worker:
    """:func:`execute_notebook` in a child process; :meth:`result` raises what it raised."""

    def __init__(
        self,
        notebook: Path,
        output: Path,
        parameters: dict[str, Any],
        cwd: Path,
        kernel_name: str = KERNEL_NAME,
        cell_timeout: int | None = None,
    ):
        self.notebook = Path(notebook)
        self.tmp = Path(tempfile.mkdtemp(prefix="genmod-section-"))
        self.outcome = self.tmp / "outcome.json"
        spec = {
            "notebook": str(notebook),
            "output": str(output),
            "parameters": parameters,
            "cwd": str(cwd),
            "kernel_name": kernel_name,
            "cell_timeout": cell_timeout,
            "outcome": str(self.outcome),
        }
        (self.tmp / "spec.json").write_text(json.dumps(spec))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "genmod.report.execute", str(self.tmp / "spec.json")]
        )

    def poll(self) -> int | None:
        return self.proc.poll()

    def interrupt(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def stop(self, grace: float = 30.0) -> None:
        """Wait for the worker to end (after :meth:`interrupt`); kill it after ``grace`` s."""
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def result(self) -> None:
        """Return if the notebook ran; else raise NotebookFailed or KeyboardInterrupt."""
        self.proc.wait()
        try:
            outcome = json.loads(self.outcome.read_text())
        except (OSError, ValueError):
            outcome = {}
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if outcome.get("ok"):
            return
        if outcome.get("interrupted"):
            raise KeyboardInterrupt
        raise NotebookFailed(
            outcome.get("error")
            or f"notebook {self.notebook.name} failed: its worker exited with {self.proc.returncode}",
            self.notebook,
            outcome.get("cell_index"),
        )


def main(argv: list[str] | None = None) -> int:
    """Worker entry point: ``python -m genmod.report.execute SPEC`` (see :class:`Worker`)."""
    skip_slow_optional_imports()
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text())
    outcome = Path(spec["outcome"])
    try:
        with kernel_environment():
            execute_notebook(
                Path(spec["notebook"]),
                Path(spec["output"]),
                spec["parameters"],
                Path(spec["cwd"]),
                spec["kernel_name"],
                spec["cell_timeout"],
            )
    except NotebookFailed as err:
        outcome.write_text(json.dumps({"error": str(err), "cell_index": err.cell_index}))
        return 1
    except KeyboardInterrupt:
        outcome.write_text(json.dumps({"interrupted": True}))
        return 130
    outcome.write_text(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
