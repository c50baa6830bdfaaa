"""No stored output is older than the code that made it (see tools/provenance.py)."""
import shutil
from pathlib import Path

import nbformat
import pytest

import provenance

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))


def test_every_stored_output_comes_from_the_current_code():
    now = provenance.package_digest()
    stale = {}
    for path in NOTEBOOKS:
        reasons = provenance.staleness(nbformat.read(path, as_version=4), package_now=now)
        if reasons:
            stale[path.relative_to(ROOT).as_posix()] = reasons
    assert not stale, (
        "these notebooks' stored outputs were made by other code than the current one:\n"
        + "".join(f"  {p}: {'; '.join(r)}\n" for p, r in stale.items())
        + "re-execute them: .venv/bin/python tools/execute_notebooks.py " + " ".join(stale)
        + "   (or `make notebooks` for all)"
    )


@pytest.fixture
def package_copy(tmp_path):
    dst = tmp_path / "lstm_course"
    shutil.copytree(provenance.PACKAGE, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def test_a_changed_plot_label_makes_a_stamped_notebook_stale(package_copy):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    provenance.stamp(nb, package=package_copy)
    assert provenance.staleness(nb, package=package_copy) == []
    viz = package_copy / "viz.py"
    text = viz.read_text(encoding="utf-8")
    assert "set_xlabel(" in text
    viz.write_text(text.replace("set_xlabel(", "set_xlabel('changed' or ", 1), encoding="utf-8")
    assert provenance.staleness(nb, package=package_copy) == [
        "src/lstm_course changed after it was executed"]


def test_a_new_data_file_and_an_edited_code_cell_count(package_copy):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_markdown_cell("prose")])
    provenance.stamp(nb, package=package_copy)
    nb.cells[1].source = "prose edited: needs no re-execution"
    assert provenance.staleness(nb, package=package_copy) == []
    nb.cells[0].source = "x = 2"
    assert provenance.staleness(nb, package=package_copy) == [
        "its code cells changed after it was executed"]
    (package_copy / "data" / "new.json").write_text("{}")
    assert len(provenance.staleness(nb, package=package_copy)) == 2


def test_an_unstamped_notebook_is_reported():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert "no provenance stamp" in provenance.staleness(nb)[0]
