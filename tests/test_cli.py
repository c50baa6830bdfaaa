"""The instructor tools: make-exercises, check-sync, assign."""
import json
import subprocess
import sys
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

def _tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")
                  if "__pycache__" not in p.parts and ".pytest_cache" not in p.parts)


def test_assign_from_the_repository_ships_a_wheel_of_the_package(tmp_path):
    import zipfile

    watched = [ROOT / "src", ROOT / "book", ROOT / "solutions"]
    before = [_tree(d) for d in watched] + [sorted(p.name for p in ROOT.iterdir())]
    out = tmp_path / "hand-out"
    written = cli.assign([4, 6], out, root=ROOT)
    wheels = sorted(out.glob("lstm_course-*.whl"))
    assert len(wheels) == 1 and wheels[0] in written
    # requirements.txt finds exactly that file through a --find-links folder, which pip
    # resolves relative to the requirements file (a bare ./x.whl would need cwd = bundle)
    req_lines = [ln for ln in (out / "requirements.txt").read_text().splitlines()
                 if ln and not ln.startswith("#")]
    assert req_lines[:2] == ["--find-links .", "lstm-course==" + wheels[0].name.split("-")[1]]
    assert "file://" not in (out / "requirements.txt").read_text()
    names = zipfile.ZipFile(wheels[0]).namelist()
    for needed in ("lstm_course/lstm.py", "lstm_course/checks/__init__.py", "lstm_course/cli.py",
                   "lstm_course/data/shakespeare_coriolanus.txt"):
        assert needed in names, f"{needed} missing from the wheel"
    assert not any("__pycache__" in n for n in names)
    # building the wheel leaves nothing behind in the repository (no build/, no egg-info)
    assert [_tree(d) for d in watched] + [sorted(p.name for p in ROOT.iterdir())] == before


def test_assign_no_wheel_points_at_the_repository(tmp_path):
    out = tmp_path / "hand-out"
    assert cli.main(["assign", "--chapters", "4", "--out", str(out), "--root", str(ROOT),
                     "--no-wheel"]) == 0
    assert not list(out.glob("*.whl"))
    req = (out / "requirements.txt").read_text()
    assert "lstm-course @ " + ROOT.resolve().as_uri() in req
    assert "replace this line" in req


def test_build_wheel_fails_with_a_clear_error(tmp_path):
    repo = tmp_path / "repo"
    (repo / "src" / "lstm_course").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("this is not toml [\n")
    (repo / "README.md").write_text("x\n")
    with pytest.raises(RuntimeError, match="could not build the lstm_course wheel"):
        cli.build_wheel(repo, tmp_path)


def test_assign_reports_a_failed_wheel_build(tmp_path, capsys, monkeypatch):
    def broken_build(root, dest):
        raise RuntimeError("could not build the lstm_course wheel (pip wheel said: nothing)")
    monkeypatch.setattr(cli, "build_wheel", broken_build)
    assert cli.main(["assign", "--chapters", "4", "--out", str(tmp_path / "b"),
                     "--root", str(ROOT)]) == 2
    assert "could not build the lstm_course wheel" in capsys.readouterr().err


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


def test_binder_environment_installs_the_package_and_its_dependencies():
    """The book's Binder button builds from binder/: it must install everything the notebooks import."""
    import os
    import re
    tomllib = pytest.importorskip("tomllib")   # Python 3.11+

    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    assert "pip install --no-deps ." in post_build.read_text()
    binder_reqs = {re.split(r"[<>=!~ ]", line)[0].lower()
                   for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
                   if line.strip() and not line.startswith("#")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {re.split(r"[<>=!~ ]", dep)[0].lower() for dep in project["dependencies"]}
    assert needed | {"jupyterlab"} <= binder_reqs


def test_every_option_has_help_text_and_no_markup():
    import argparse

    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(subparsers.choices) == ["assign", "check-sync", "make-exercises"]
    texts = [parser.format_help()]
    for name, sub in subparsers.choices.items():
        texts.append(sub.format_help())
        for action in sub._actions:
            assert action.help, f"lstm-course {name} {'/'.join(action.option_strings)} has no help text"
    for text in texts:
        assert "``" not in text and ":func:" not in text, f"raw markup in the help:\n{text}"


def test_bundle_requirements_install_from_any_folder(tmp_path):
    """`pip install -r hand-out/requirements.txt` run from another folder finds the bundle's wheel."""
    out = tmp_path / "hand-out"
    cli.assign([4], out, root=ROOT)
    lines = (out / "requirements.txt").read_text().splitlines()
    # only the course package's lines (the rest would need the package index); the file stays
    # in the bundle folder, where pip resolves its relative --find-links
    pkg_only = out / "requirements-package.txt"
    pkg_only.write_text("\n".join(ln for ln in lines if ln.startswith("--find-links") or
                                   ln.startswith("lstm-course")) + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps",
                             "--no-index", "--ignore-installed", "--disable-pip-version-check", "-r", str(pkg_only)],
                            cwd=elsewhere, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Would install lstm-course-" in result.stdout, result.stdout
