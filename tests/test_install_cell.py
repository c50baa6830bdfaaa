"""Every chapter and exercise notebook starts with a guarded install cell, so that it runs on
Colab (or any fresh kernel) once the package is published, and does nothing where the course
package is installed (the book, JupyterLab on this repository, nbval)."""
import importlib.util
import json
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
GUARD = 'if importlib.util.find_spec("lstm_course") is None:'
NOTEBOOKS = sorted([*(ROOT / "book").glob("ch*.ipynb"), *(ROOT / "book").glob("appendix_*.ipynb"),
                    *(ROOT / "solutions").glob("ch*.ipynb"), *(ROOT / "exercises").glob("ch*.ipynb")])


def _first_code_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    cell = next(c for c in cells if c["cell_type"] == "code")
    return cell, "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_first_code_cell_installs_the_package_only_where_it_is_missing(path):
    cell, source = _first_code_cell(path)
    assert GUARD in source and "%pip install" in source, \
        f"{path.name}: the first code cell is not the guarded install cell:\n{source[:300]}"
    if path.parent.name == "book":
        assert "remove-cell" in cell["metadata"].get("tags", []), \
            f"{path.name}: the install cell must be tagged remove-cell (the book does not show it)"


class _FakeShell:
    def __init__(self):
        self.calls = []

    def run_line_magic(self, name, line):
        self.calls.append((name, line))


@pytest.mark.parametrize("installed", [True, False])
def test_the_install_cell_runs_pip_exactly_when_the_package_is_missing(installed, monkeypatch):
    _, source = _first_code_cell(ROOT / "book" / "ch04_gates.ipynb")
    code = TransformerManager().transform_cell(source)  # what IPython runs: %pip -> run_line_magic
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real(name, *a) if installed or name != "lstm_course" else None))
    shell = _FakeShell()
    exec(compile(code, "install-cell", "exec"), {"get_ipython": lambda: shell})
    if installed:
        assert shell.calls == []
    else:
        assert shell.calls == [("pip", "install --quiet lstm-course")]
