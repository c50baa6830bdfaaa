"""JupyterLab in a real browser: open a chapter, run all cells, move a widget slider.

The test starts JupyterLab on 127.0.0.1 (a free port, a random token) on a *copy* of the
chapter notebook, so autosave cannot touch the repository, and stops it afterwards.
"""
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from browser import ARTIFACTS, browser_page, require_chromium, unexplained

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "ch02_vanishing_exploding.ipynb"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab_server(tmp_path):
    with _lab(tmp_path, CHAPTER) as server:
        yield server


@contextlib.contextmanager
def _lab(tmp_path, notebook):
    """JupyterLab serving a copy of ``notebook``; yields (base URL, token, file name)."""
    require_chromium()
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    shutil.copy(notebook, nb_dir / notebook.name)
    port, token = _free_port(), secrets.token_hex(16)
    # JupyterLab 4 renders only the cells in view ("windowing"); render them all, so the
    # widget far down the notebook exists in the page. Settings live in a private folder.
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    apputils = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True)
    (apputils / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={nb_dir}", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text())
                time.sleep(0.5)
        yield base, token, notebook.name
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_run_chapter_and_move_a_widget_slider(lab_server):
    base, token, name = lab_server
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page() as (page, log):
        page.set_default_timeout(60_000)
        try:
            _run_and_slide(page, log, base, token, name)
        finally:
            page.screenshot(path=str(ARTIFACTS / "lab-final.png"))


def _accept_kernel_dialog(page):
    """JupyterLab may ask which kernel to start: accept the default (Python 3)."""
    select = page.locator(".jp-Dialog button.jp-mod-accept")
    try:
        select.wait_for(state="visible", timeout=5_000)
        select.click()
    except Exception:
        pass  # no dialog: the kernel started by itself


def _open_and_run_all(page, base, token, name):
    """Open a notebook in JupyterLab and run all its cells through the Run menu."""
    page.goto(f"{base}/lab/tree/{name}?token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    _accept_kernel_dialog(page)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    # Run > Run All Cells, through the menu as a student would
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator("li[data-command='runmenu:run-all']").first.click()
    # the run is over when no cell prompt shows [*] any more
    page.wait_for_function(
        "() => document.querySelectorAll('.jp-InputArea-prompt').length > 0 && "
        "![...document.querySelectorAll('.jp-InputArea-prompt')].some(p => p.textContent.includes('*'))",
        timeout=180_000)


def _run_and_slide(page, log, base, token, name):
    _open_and_run_all(page, base, token, name)   # Run > Run All Cells, as a student would
    handle = page.locator(".widget-slider .noUi-handle").first
    handle.wait_for(state="attached", timeout=60_000)
    handle.scroll_into_view_if_needed()
    # the widget's plot: the first image inside the same widget container as the slider
    box = handle.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')][1]")
    img = box.locator("img").first
    img.wait_for(state="visible", timeout=60_000)
    before = img.get_attribute("src")
    page.screenshot(path=str(ARTIFACTS / "lab-before-slider.png"))
    handle.click()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("([el, before]) => el.getAttribute('src') !== before",
                           arg=[img.element_handle(), before], timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "lab-after-slider.png"))
    assert img.get_attribute("src") != before
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count()
    assert errors == 0, "a cell raised an error when run in JupyterLab"
    assert not log["external"], log["external"]


# MyST markup that must never reach the reader raw: jupyterlab-myst renders the directives
# (exercise, solution, admonitions) and roles of the chapters' markdown cells.
RAW_MYST = ("{solution}", "{exercise}", "{cite:p}", "{cite:t}", "{numref}", ":class: dropdown",
            "{eq}`", "{glue:")


def test_chapter_markdown_renders_with_solutions_collapsed(lab_server):
    """Opened in JupyterLab, a chapter shows no raw MyST, and its solutions start collapsed."""
    base, token, name = lab_server
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page() as (page, log):
        page.set_default_timeout(60_000)
        page.goto(f"{base}/lab/tree/{name}?token={token}", wait_until="domcontentloaded")
        # jupyterlab-myst renders each markdown cell into a div.myst
        page.wait_for_selector(".jp-Notebook .jp-MarkdownCell .myst", timeout=90_000)
        _accept_kernel_dialog(page)
        page.wait_for_timeout(2_000)
        texts = page.locator(".jp-MarkdownCell .myst").all_inner_texts()
        assert len(texts) > 10, "the chapter's markdown cells did not render"
        raw = sorted({m for t in texts for m in RAW_MYST if m in t})
        assert not raw, f"raw MyST visible in JupyterLab: {raw}"
        # the solutions: there are some, and none is open
        solutions = page.locator(".jp-MarkdownCell .myst details", has_text="Solution to")
        assert solutions.count() >= 3, "no collapsible solution in the rendered chapter"
        assert all(not d.evaluate("e => e.open") for d in solutions.all()), "a solution starts open"
        solutions.first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lab-myst-solution.png"))


EXPLORER_CELLS = [
    "import numpy as np\n"
    "from lstm_course import tasks\n"
    "from lstm_course.model_file import reference_model_path\n"
    "from lstm_course.models import CharLSTM\n"
    "from lstm_course.widgets import CellExplorer\n"
    "from lstm_course.widgets.cell_explorer import cell_activations",
    "model, chars, info, curve = CharLSTM.load(reference_model_path())\n"
    "text = tasks.load_plays()[1][9000:11000]\n"
    "acts = cell_activations(model, np.array([chars.index(c) for c in text]))\n"
    "explorer = CellExplorer(text, acts)\n"
    "explorer",
]


def test_the_cell_explorer_recolours_the_text_in_jupyterlab(tmp_path):
    """Chapter 7's live explorer: choosing a pattern in the widget recolours the text."""
    import nbformat

    notebook = tmp_path / "cell_explorer.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in EXPLORER_CELLS]),
                   notebook)
    (tmp_path / "lab").mkdir()
    with _lab(tmp_path / "lab", notebook) as (base, token, name), browser_page() as (page, log):
        page.set_default_timeout(60_000)
        _open_and_run_all(page, base, token, name)
        pattern = page.locator(".widget-dropdown select").first
        pattern.wait_for(state="visible", timeout=60_000)
        view = page.locator(".widget-html-content").first
        before = view.inner_html()
        assert before.count("<span") == 2000
        pattern.select_option("speaker name")
        page.wait_for_function("([el, before]) => el.innerHTML !== before",
                               arg=[view.element_handle(), before], timeout=30_000)
        cell = page.locator(".widget-dropdown select").nth(1)
        assert "r = " in cell.inner_text().replace("\xa0", " ")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "lab-cell-explorer.png"))
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count()
        assert errors == 0 and not log["external"]
