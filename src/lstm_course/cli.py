"""The ``lstm-course`` command for instructors.

    lstm-course make-exercises [--root DIR]        solutions/ -> exercises/
    lstm-course check-sync [--root DIR]            fail if exercises/ is stale
    lstm-course assign --chapters 4 6 --out DIR [--force] [--no-wheel]
                                                   a student bundle

``solutions/chNN_*.ipynb`` are the single source of truth. In code cells, every
region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is replaced by
``raise NotImplementedError(...)`` (same indentation); a markdown cell whose
nbgrader metadata says ``solution: true`` becomes "YOUR ANSWER HERE". Outputs
of every cell are cleared, so nothing computed by the solution leaks either.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = 'raise NotImplementedError("your code here")'
ANSWER_STUB = "YOUR ANSWER HERE"


def strip_solutions(source):
    """Replace each BEGIN/END SOLUTION region of ``source`` with a stub line."""
    out, inside = [], False
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise ValueError("nested '### BEGIN SOLUTION'")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + STUB)
        elif stripped.startswith(END):
            if not inside:
                raise ValueError("'### END SOLUTION' without a BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("'### BEGIN SOLUTION' without an END")
    return "\n".join(out)


def is_solution_cell(cell):
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution", False))


def make_exercise_notebook(nb):
    """Return a new notebook: ``nb`` (a solution notebook) with the solutions removed."""
    ex = nbformat.from_dict(nb)  # a deep copy
    for cell in ex.cells:
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown" and is_solution_cell(cell):
            cell.source = ANSWER_STUB
    ex.metadata.pop("widgets", None)
    ex.metadata.pop("lstm_course", None)  # the provenance stamp describes outputs it no longer has
    return ex


def _solution_paths(root):
    return sorted((Path(root) / "solutions").glob("ch*.ipynb"))


def _render(nb):
    return nbformat.writes(nb) + "\n"


def make_exercises(root="."):
    """Write ``exercises/`` from ``solutions/``; return the written paths."""
    root = Path(root)
    (root / "exercises").mkdir(exist_ok=True)
    written = []
    for sol in _solution_paths(root):
        ex = make_exercise_notebook(nbformat.read(sol, as_version=4))
        dst = root / "exercises" / sol.name
        dst.write_text(_render(ex), encoding="utf-8")
        written.append(dst)
    return written


def check_sync(root="."):
    """Problems (list of str) where ``exercises/`` differs from what ``solutions/`` generates."""
    root = Path(root)
    problems = []
    expected_names = set()
    for sol in _solution_paths(root):
        expected_names.add(sol.name)
        dst = root / "exercises" / sol.name
        want = _render(make_exercise_notebook(nbformat.read(sol, as_version=4)))
        if not dst.exists():
            problems.append(f"missing: exercises/{sol.name}")
        elif dst.read_text(encoding="utf-8") != want:
            problems.append(f"out of date: exercises/{sol.name}")
    for ex in sorted((root / "exercises").glob("ch*.ipynb")):
        if ex.name not in expected_names:
            problems.append(f"no solution notebook for exercises/{ex.name}")
    return problems


def chapter_number(path):
    m = re.match(r"ch(\d+)", Path(path).name)
    return int(m.group(1)) if m else None


STUDENT_README = """# LSTMs from scratch: exercises for chapter(s) {chapters}

1. Install Python 3.10 or newer, then in this folder:

       python3 -m venv .venv
       .venv/bin/pip install -r requirements.txt
       .venv/bin/jupyter lab

2. Open each notebook, fill in the cells that say `raise NotImplementedError`,
   and run the check cell below each one. A check says what is wrong (which
   output, which gate, how large the error) without giving the answer away.

The chapters themselves (theory, derivations, figures) are in the course book.
"""


def build_wheel(root, dest):
    """Build the ``lstm_course`` wheel of the repository ``root`` into ``dest``; return its path.

    pip builds from a temporary copy of ``pyproject.toml``, ``README.md``,
    ``LICENSE`` and ``src/``, so no ``build/`` or ``*.egg-info`` folder appears in the
    repository, and without build isolation, so nothing is downloaded (the
    build backend, setuptools, comes from this environment).
    """
    root, dest = Path(root), Path(dest)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if name != "LICENSE" or (root / name).exists():
                shutil.copy2(root / name, tmp)
        shutil.copytree(root / "src", Path(tmp) / "src",
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        before = set(dest.glob("*.whl"))
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--disable-pip-version-check", "--quiet", "--wheel-dir", str(dest), tmp],
            capture_output=True, text=True)
    wheels = sorted(set(dest.glob("lstm_course-*.whl")) - before)
    if result.returncode != 0 or len(wheels) != 1:
        raise RuntimeError(
            "could not build the lstm_course wheel (pip wheel said: "
            f"{(result.stderr or result.stdout).strip()[-500:] or 'nothing'}); "
            "install setuptools into this environment, or pass --no-wheel")
    return wheels[0]


def _wheel_version(whl):
    """The version in a wheel's file name (``lstm_course-0.1.0-py3-none-any.whl`` -> ``0.1.0``)."""
    return Path(whl).name.split("-")[1]


def assign(chapters, out, root=".", force=False, wheel=True):
    """Write a student bundle for ``chapters`` into ``out``; return the written paths.

    The bundle holds the exercise notebooks (no solutions, no outputs), a
    ``README.md`` for the students and a ``requirements.txt``. With ``wheel``
    (the default) and ``root`` a repository (it has ``pyproject.toml``), the
    wheel of the course package is built into the bundle and
    ``requirements.txt`` installs it from there, so the folder is complete:
    students need no access to the repository. With ``wheel=False`` the
    requirement points at the repository on this machine, to be replaced
    before handing out (e.g. by the URL of a public copy).
    """
    root, out = Path(root), Path(out)
    chapters = sorted(set(int(c) for c in chapters))
    by_chapter = {chapter_number(p): p for p in _solution_paths(root)}
    missing = [c for c in chapters if c not in by_chapter]
    if missing:
        have = ", ".join(str(c) for c in sorted(by_chapter)) or "none"
        raise ValueError(f"no exercise notebook for chapter(s) {missing}; available chapters: {have}")
    if out.exists():
        if not force:
            raise FileExistsError(f"{out} already exists; use --force to overwrite it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written = []
    for c in chapters:
        sol = by_chapter[c]
        ex = make_exercise_notebook(nbformat.read(sol, as_version=4))
        dst = out / sol.name
        dst.write_text(_render(ex), encoding="utf-8")
        written.append(dst)
    is_repository = (root / "pyproject.toml").exists()
    if is_repository and wheel:
        whl = build_wheel(root, out)
        written.append(whl)
        # pip resolves a --find-links folder given in a requirements file relative to
        # that file (a bare "./x.whl" line would be relative to the current directory),
        # so `pip install -r some/where/requirements.txt` works from any folder.
        pkg_comment = ("# The course package: the wheel in this folder (found through --find-links,\n"
                       "# which pip reads relative to this file, so this works from any folder)\n"
                       "--find-links .")
        pkg_req = f"lstm-course=={_wheel_version(whl)}"
    elif is_repository:
        pkg_comment = ("# The course package, from the repository on the instructor's machine:\n"
                       "# replace this line with something your students can reach")
        pkg_req = "lstm-course @ " + root.resolve().as_uri()
    else:
        pkg_comment = "# The course package"
        pkg_req = "lstm-course"
    req = out / "requirements.txt"
    req.write_text(
        f"{pkg_comment}\n"
        f"{pkg_req}\n"
        "numpy>=1.26,<3\nmatplotlib>=3.8,<4\nipywidgets>=8.1,<9\ntqdm>=4.66,<5\njupyterlab>=4.2,<5\n",
        encoding="utf-8",
    )
    readme = out / "README.md"
    readme.write_text(STUDENT_README.format(chapters=", ".join(map(str, chapters))), encoding="utf-8")
    return written + [req, readme]


DESCRIPTION = "The lstm-course command for instructors: exercise notebooks and student bundles."
EPILOG = """examples:
  lstm-course make-exercises                  regenerate exercises/ from solutions/
  lstm-course check-sync                      fail when exercises/ is stale
  lstm-course assign --chapters 4 6 --out hand-out
                                              a folder to give to students: the exercise
                                              notebooks, a wheel of the package, a README
                                              and a requirements.txt

solutions/chNN_*.ipynb are the single source of truth; exercises/ is generated from them."""

ROOT_HELP = "the course repository, the folder that holds solutions/ (default: the current folder)"


def build_parser():
    """The argument parser of the ``lstm-course`` command."""
    parser = argparse.ArgumentParser(prog="lstm-course", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("make-exercises", help="generate exercises/ from solutions/",
                       description="Write exercises/chNN_*.ipynb from solutions/chNN_*.ipynb: "
                                   "solution code replaced by stubs, outputs cleared.")
    p.add_argument("--root", default=".", metavar="DIR", help=ROOT_HELP)
    p = sub.add_parser("check-sync", help="fail when exercises/ is not what solutions/ generates",
                       description="Exit with status 1, naming each notebook, when exercises/ "
                                   "differs from what make-exercises would write.")
    p.add_argument("--root", default=".", metavar="DIR", help=ROOT_HELP)
    p = sub.add_parser("assign", help="write a student bundle for some chapters",
                       description="Write a folder to hand out: the exercise notebooks of the "
                                   "chosen chapters (no solutions, no outputs), a wheel of the "
                                   "course package, a README.md and a requirements.txt that "
                                   "installs everything with `pip install -r DIR/requirements.txt` "
                                   "from any folder.")
    p.add_argument("--chapters", type=int, nargs="+", required=True, metavar="N",
                   help="the chapter numbers to include, e.g. --chapters 4 6")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="the folder to write (must not exist, unless --force)")
    p.add_argument("--root", default=".", metavar="DIR", help=ROOT_HELP)
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--no-wheel", action="store_true",
                   help="do not put a wheel of the course package into the bundle; its "
                        "requirements.txt then points at this repository, to be replaced")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)

    if args.command == "make-exercises":
        for path in make_exercises(args.root):
            print(f"wrote {path}")
        return 0
    if args.command == "check-sync":
        problems = check_sync(args.root)
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            print("run `lstm-course make-exercises` to regenerate exercises/", file=sys.stderr)
            return 1
        print("exercises/ is in sync with solutions/")
        return 0
    if args.command == "assign":
        try:
            written = assign(args.chapters, args.out, root=args.root, force=args.force,
                             wheel=not args.no_wheel)
        except (ValueError, FileExistsError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for path in written:
            print(f"wrote {path}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
