"""The explorers as a user meets them: JupyterLab driven by headless Chromium.

A real JupyterLab (started as `make lab` does: 127.0.0.1, a token, no news or update
checks) serves a temporary copy of the three notebooks, set to the smoke profile with
temporary cache and results paths. For each notebook, Chromium (driven by Playwright, the
system browser: nothing is downloaded) opens it, runs all cells, waits for the explorer,
checks that its figure is shown at its natural size and that no warning was printed in its
cell, then changes one control a few times and checks that the status line and the figure
change each time. The page must log no console error. Each update's latency (from the
control's change to the new figure in the page) is printed: run with ``-s`` to see it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from genmod.paths import NOTEBOOKS_DIR

# the notebook, the explorer's control that is changed (its label) and how many changes
EXPLORERS = {
    "01_diffusion_unconditional.ipynb": "sampler",
    "02_diffusion_conditional.ipynb": "class",
    "03_autoregressive_gpt.ipynb": "head",
}
N_CHANGES = 5
RUN_TIMEOUT_S = 300  # one notebook's smoke run, all cells (about a minute on 2 idle cores)
UPDATE_TIMEOUT_S = 30
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# the same server options as `make lab` (see the Makefile's LAB_ARGS)
LAB_ARGS = [
    "--no-browser",
    "--ServerApp.ip=127.0.0.1",
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]


def _chromium() -> str | None:
    env = os.environ.get("GENMOD_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def smoke_copy(src: Path, dst: Path, tmp: Path) -> None:
    """Copy a notebook with its parameters cell set to the smoke profile, the CPU and
    temporary cache and results paths (every other cell as it is)."""
    nb = nbformat.read(src, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {
        "profile": "smoke",
        "device": "cpu",
        "cache_dir": str(tmp / "cache"),
        "results_path": str(tmp / f"{src.stem}.results.json"),
    }
    lines = []
    for line in cell.source.splitlines():
        name = line.split("=")[0].strip()
        lines.append(f"{name} = {values.pop(name)!r}" if name in values else line)
    assert not values, f"{src.name}: no parameter {sorted(values)}"
    cell.source = "\n".join(lines)
    nbformat.write(nb, dst)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


@pytest.fixture(scope="module")
def chromium():
    path = _chromium()
    if path is None:
        pytest.skip("no Chromium (install it, or set GENMOD_CHROMIUM=/path/to/chromium)")
    pytest.importorskip(
        "playwright.sync_api", reason="playwright is absent (pip install playwright)"
    )
    return path


@pytest.fixture(scope="module")
def lab(chromium, tmp_path_factory):
    """A JupyterLab server on a temporary directory holding the smoke copies of the notebooks;
    yields (base URL, token, root directory)."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is absent (make venv)")
    from jupyter_client.kernelspec import KernelSpecManager

    if "genmod" not in KernelSpecManager().find_kernel_specs():
        pytest.fail("no Jupyter kernel named genmod: run `make venv`")
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    root.mkdir()
    for name in EXPLORERS:
        smoke_copy(NOTEBOOKS_DIR / name, root / name, tmp)
    port, token = _free_port(), os.urandom(16).hex()
    # the user's settings: no question about fetching news (a toast over the controls)
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),  # the kernel is the environment's (sys.prefix)
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
    )
    cmd = [sys.executable, "-m", "jupyter", "lab", *LAB_ARGS]
    cmd += [f"--ServerApp.root_dir={root}", f"--ServerApp.port={port}"]
    cmd += ["--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]
    if os.name == "posix" and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "lab.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(f"{base}/api/status?token={token}")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
            time.sleep(0.3)
    yield base, token, root
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        yield ctx
        ctx.close()


# the PNG bytes behind an <img> (a blob: URL), hashed: changes exactly when the figure does
_IMAGE_HASH = """async (img) => {
  const b = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let h = 2166136261;
  for (const x of b) { h = Math.imul(h ^ x, 16777619) >>> 0; }
  return `${b.length}:${h}`;
}"""

_IMAGE_SIZE = """(img) => {
  const r = img.getBoundingClientRect();
  return {natural: [img.naturalWidth, img.naturalHeight], shown: [r.width, r.height],
          dpr: window.devicePixelRatio};
}"""


def _shutdown_kernels(base: str, token: str) -> None:
    for s in _get(f"{base}/api/sessions?token={token}") or []:
        req = urllib.request.Request(
            f"{base}/api/sessions/{s['id']}?token={token}", method="DELETE"
        )
        urllib.request.urlopen(req, timeout=10).close()


def _run_all_and_wait(page, name: str):
    """Run all cells from the menu, as a user would, and return the explorer's locator once
    its first update has been shown (failing early with the error of a failing cell)."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    explorer = page.locator(".genmod-explorer")
    status = explorer.locator(".genmod-explorer-status")
    # an error's traceback is shown as stderr text (as tqdm's progress bars are)
    error = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").filter(
        has_text="Traceback (most recent call last)"
    )
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        if error.count():
            pytest.fail(f"{name}: a cell failed:\n{error.first.inner_text()[-3000:]}")
        if status.count() and "update #1 " in status.inner_text():
            return explorer
        page.wait_for_timeout(250)
    pytest.fail(f"{name}: no explorer after {RUN_TIMEOUT_S} s")


def _state(page, explorer):
    status = explorer.locator(".genmod-explorer-status").inner_text()
    images = explorer.locator("img")
    return status, tuple(images.nth(i).evaluate(_IMAGE_HASH) for i in range(images.count()))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPLORERS), ids=lambda n: n[:2])
def test_explorer_in_jupyterlab(name, lab, browser, tmp_path):
    base, token, root = lab
    errors: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    t0 = time.monotonic()
    try:
        # a workspace of its own, reset: no other notebook is restored (or its kernel started)
        page.goto(f"{base}/lab/workspaces/{name[:2]}/tree/{name}?reset&token={token}")
        # the notebook is loaded and its kernel (the project's) has started
        n_cells = len(nbformat.read(root / name, as_version=4).cells)
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-Notebook .jp-Cell').length === n",
            arg=n_cells,
            timeout=60_000,
        )
        status_bar = page.locator(".jp-StatusBar-Item")
        status_bar.get_by_text(re.compile(r"^Python \(genmod\) \| Idle$")).wait_for(timeout=60_000)
        explorer = _run_all_and_wait(page, name)
        t_run = time.monotonic() - t0
        explorer.scroll_into_view_if_needed()

        # the explorer's cell shows the widget only: no warning or other stderr output
        cell = page.locator(".jp-CodeCell", has=page.locator(".genmod-explorer"))
        assert cell.count() == 1
        outputs = cell.locator(".jp-OutputArea-output")
        assert outputs.count() == 1, cell.locator(".jp-OutputArea").inner_text()[:2000]
        stderr = cell.locator("[data-mime-type='application/vnd.jupyter.stderr']")
        assert stderr.count() == 0, stderr.first.inner_text()

        # every figure is shown at its natural size (not stretched to the output's width)
        images = explorer.locator("img")
        assert images.count() >= 1
        for i in range(images.count()):
            size = images.nth(i).evaluate(_IMAGE_SIZE)
            (nw, nh), (w, h) = size["natural"], size["shown"]
            assert nw > 100 and abs(w - nw) <= 1 and abs(h - nh) <= 1, (name, size)

        # change one control a few times: the status line and the figure change each time
        label = EXPLORERS[name]
        select = explorer.get_by_label(label, exact=True)
        n_options = select.locator("option").count()
        assert n_options >= 2
        start = select.evaluate("s => s.selectedIndex")
        before = _state(page, explorer)
        latencies, kernel_s = [], []
        for k in range(1, N_CHANGES + 1):
            t = time.perf_counter()
            select.select_option(index=(start + k) % n_options)
            page.wait_for_function(
                "([el, n]) => el.innerText.includes(`update #${n} `)",
                arg=[explorer.locator(".genmod-explorer-status").element_handle(), k + 1],
                polling="raf",
                timeout=UPDATE_TIMEOUT_S * 1000,
            )
            latencies.append(time.perf_counter() - t)
            after = _state(page, explorer)
            kernel_s.append(float(after[0].split(" in ")[1].split(" s")[0]))
            assert after[0] != before[0], after
            assert after[1] != before[1], f"{name}: the figure did not change ({label}, {k})"
            before = after
        print(
            f"\n{name}: run all {t_run:.0f} s; {label!r} changed {N_CHANGES}×: update shown "
            f"after median {statistics.median(latencies):.3f} s "
            f"(each: {', '.join(f'{s:.3f}' for s in latencies)}); "
            f"kernel compute + render median {statistics.median(kernel_s):.2f} s"
        )
        assert not errors, "\n".join(errors)
    except BaseException:
        page.screenshot(path=str(tmp_path / "page.png"))
        print(f"\n{name}: the page as it was: {tmp_path / 'page.png'}")
        raise
    finally:
        page.close()
        _shutdown_kernels(base, token)


def test_make_lab_installs_nothing():
    """`make lab` only starts JupyterLab (installed by `make venv`, the dev install), with the
    options this test uses."""
    root = NOTEBOOKS_DIR.parent
    make = (root / "Makefile").read_text().replace("\\\n", " ")
    rule = re.search(r"^lab:(.*)\n((?:\t.*\n)+)", make, re.M)
    assert rule and rule.group(1).split() == ["venv"], rule
    assert "pip" not in rule.group(2) and "$(LAB_ARGS)" in rule.group(2)
    lab_args = re.search(r"^LAB_ARGS\s*:?=(.*)$", make, re.M).group(1).split()
    assert set(LAB_ARGS) <= set(lab_args)
    dev = re.search(r"^dev\s*=\s*\[(.*)\]", (root / "pyproject.toml").read_text(), re.M)
    names = {re.split(r"[<>=\[ ]", d.strip(' "'))[0] for d in dev.group(1).split(",")}
    assert {"jupyterlab", "playwright", "pytest"} <= names
    assert "'.[dev]'" in make  # the environment's install
