"""Build the book with Jupyter Book 1 (warnings are errors).

    python tools/build_book.py                 # -> _build/html
    python tools/build_book.py --student       # solutions hidden -> _build/student/_build/html
    python tools/build_book.py --out DIR       # -> DIR/_build/html

The student edition is the same book with sphinx-exercise's ``hide_solutions``
switched on: every ``solution`` directive is left out of the HTML.
Prints the path of index.html; exits non-zero when the build has warnings.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["-W", "-n", "--keep-going"]


def build(out=None, student=False):
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(ROOT), *FLAGS]
    tmp = None
    if student:
        config = (ROOT / "_config.yml").read_text(encoding="utf-8")
        if "hide_solutions: false" not in config:
            raise SystemExit("_config.yml must contain 'hide_solutions: false' for the student edition")
        # next to _config.yml: Jupyter Book resolves the config's local_extensions paths
        # relative to the config file's folder
        tmp = tempfile.NamedTemporaryFile("w", prefix=".student_config_", suffix=".yml", dir=ROOT,
                                          delete=False, encoding="utf-8")
        tmp.write(config.replace("hide_solutions: false", "hide_solutions: true"))
        tmp.close()
        cmd += ["--config", tmp.name]
        out = out or ROOT / "_build" / "student"
    if out is not None:
        cmd += ["--path-output", str(out)]
    try:
        rc = subprocess.call(cmd, cwd=ROOT)
    finally:
        if tmp:
            Path(tmp.name).unlink()
    html = (Path(out) if out else ROOT) / "_build" / "html" / "index.html"
    return rc, html


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--student", action="store_true", help="hide the solutions")
    parser.add_argument("--out", help="output folder (the HTML lands in OUT/_build/html)")
    args = parser.parse_args()
    rc, html = build(args.out, args.student)
    if rc == 0:
        print(f"The book: {html}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
