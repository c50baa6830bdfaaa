"""The instructor tools: make-exercises, check-sync, assign."""
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lstm_course import cli

ROOT = Path(__file__).resolve().parents[1]

SOLUTION_CODE = """def double(x):
    \"\"\"Return 2 x.\"\"\"
    ### BEGIN SOLUTION
    secret_answer = x + x
    return secret_answer
    ### END SOLUTION
"""


def _solution_regions(source):
    lines, inside, out = source.split("\n"), False, []
    for line in lines:
        if line.strip().startswith(cli.BEGIN):
            inside = True
        elif line.strip().startswith(cli.END):
            inside = False
        elif inside and line.strip():
            out.append(line.strip())
    return out


def _make_repo(tmp_path, chapters=(1, 4)):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    for c in chapters:
        impl = new_code_cell(SOLUTION_CODE)
        impl.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": f"ex{c}", "locked": False,
                                     "schema_version": 3, "task": False}
        impl.outputs = [nbformat.v4.new_output("stream", text="secret output\n")]
        answer = new_markdown_cell("The answer is a secret_answer paragraph.")
        answer.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": f"q{c}", "locked": False,
                                       "schema_version": 3, "task": False}
        nb = new_notebook(cells=[new_markdown_cell(f"# Chapter {c}"), impl, answer,
                                 new_code_cell("check('double', double)")])
        nbformat.write(nb, tmp_path / "solutions" / f"ch{c:02d}_topic.ipynb")
    return tmp_path


def test_strip_solutions_keeps_indentation_and_signature():
    out = cli.strip_solutions(SOLUTION_CODE)
    assert "secret_answer" not in out
    assert '    raise NotImplementedError("your code here")' in out
    assert out.startswith("def double(x):")


@pytest.mark.parametrize("bad", [
    "### BEGIN SOLUTION\nx = 1\n",
    "x = 1\n### END SOLUTION\n",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",
])
def test_strip_solutions_rejects_unbalanced_markers(bad):
    with pytest.raises(ValueError):
        cli.strip_solutions(bad)


def test_make_exercises_removes_code_answers_and_outputs(tmp_path):
    repo = _make_repo(tmp_path)
    written = cli.make_exercises(repo)
    assert [p.name for p in written] == ["ch01_topic.ipynb", "ch04_topic.ipynb"]
    for p in written:
        text = p.read_text()
        assert "secret" not in text
        nb = nbformat.read(p, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        assert nb.cells[2].source == cli.ANSWER_STUB


def test_check_sync_detects_drift(tmp_path):
    repo = _make_repo(tmp_path)
    cli.make_exercises(repo)
    assert cli.check_sync(repo) == []
    sol = repo / "solutions" / "ch04_topic.ipynb"
    nb = nbformat.read(sol, as_version=4)
    nb.cells[0].source = "# Chapter 4, edited"
    nbformat.write(nb, sol)
    assert cli.check_sync(repo) == ["out of date: exercises/ch04_topic.ipynb"]
    (repo / "exercises" / "ch01_topic.ipynb").unlink()
    assert "missing: exercises/ch01_topic.ipynb" in cli.check_sync(repo)
    assert cli.main(["check-sync", "--root", str(repo)]) == 1


def test_assign_bundle_and_overwrite_protection(tmp_path, capsys):
    repo = _make_repo(tmp_path / "repo")
    out = tmp_path / "bundle"
    assert cli.main(["assign", "--chapters", "4", "--out", str(out), "--root", str(repo)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["README.md", "ch04_topic.ipynb", "requirements.txt"]
    for p in out.iterdir():
        assert "secret" not in p.read_text()
    assert cli.main(["assign", "--chapters", "4", "--out", str(out), "--root", str(repo)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["assign", "--chapters", "4", "--out", str(out), "--root", str(repo), "--force"]) == 0
    assert cli.main(["assign", "--chapters", "9", "--out", str(tmp_path / "x"), "--root", str(repo)]) == 2
    assert "available chapters: 1, 4" in capsys.readouterr().err


# --- the real repository ------------------------------------------------------

def test_repository_exercises_are_in_sync_with_solutions():
    assert cli.check_sync(ROOT) == [], "run `lstm-course make-exercises`"


def test_no_solution_text_in_any_exercise_notebook():
    for sol in sorted((ROOT / "solutions").glob("ch*.ipynb")):
        ex = ROOT / "exercises" / sol.name
        ex_text = ex.read_text(encoding="utf-8")
        nb = nbformat.read(sol, as_version=4)
        # what the student is meant to see: everything outside the solution regions
        # (a find-the-bug exercise shows buggy lines that its solution repeats)
        visible = "\n".join(cli.strip_solutions(c.source) for c in nb.cells
                             if not (c.cell_type == "markdown" and cli.is_solution_cell(c)))
        for cell in nb.cells:
            if cell.cell_type == "code":
                for line in _solution_regions(cell.source):
                    if len(line) > 12 and line not in visible:  # short lines like `return dx` are no evidence
                        assert json.dumps(line)[1:-1] not in ex_text, f"{ex.name} leaks: {line}"
            elif cli.is_solution_cell(cell):
                assert cell.source.strip()[:60] not in ex_text
        assert ex_text.count("NotImplementedError") >= sum(
            c.source.count(cli.BEGIN) for c in nb.cells if c.cell_type == "code")


def test_console_script_is_installed():
    import shutil
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("lstm-course")
    assert exe.exists() or shutil.which("lstm-course")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "make-exercises" in out.stdout


def test_solution_notebooks_have_valid_nbgrader_metadata():
    """What nbgrader's generate_assignment validates: ids unique, written answers graded."""
    for sol in sorted((ROOT / "solutions").glob("ch*.ipynb")):
        nb = nbformat.read(sol, as_version=4)
        ids = []
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if not meta:
                assert cli.BEGIN not in cell.source, f"{sol.name}: solution markers in a cell without nbgrader metadata"
                continue
            ids.append(meta["grade_id"])
            if cell.cell_type == "markdown" and meta.get("solution"):
                assert meta.get("grade") and meta.get("points", 0) > 0, \
                    f"{sol.name}: written answer {meta['grade_id']} must be a graded cell (nbgrader rejects it)"
            if meta.get("grade") and cell.cell_type == "code":
                assert meta.get("points", 0) > 0 and meta.get("locked"), f"{sol.name}: {meta['grade_id']}"
            if cell.cell_type == "code" and meta.get("solution"):
                assert cli.BEGIN in cell.source, f"{sol.name}: solution cell {meta['grade_id']} has no markers"
        assert len(ids) == len(set(ids)), f"{sol.name}: duplicate nbgrader grade_id"
