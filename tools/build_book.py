"""Build the book with Jupyter Book 1 (warnings are errors).

    python tools/build_book.py                 # -> _build/html
    python tools/build_book.py --student       # solutions hidden -> _build/student/_build/html
    python tools/build_book.py --out DIR       # -> DIR/_build/html

The student edition is the same book with sphinx-exercise's ``hide_solutions``
switched on: every ``solution`` directive is left out of the HTML, the
downloadable sources lose theirs too (``_ext/student_edition.py``), and it has no
launch or repository buttons (they would open the solved notebooks).

The repository URL is set in one place, ``repository.url`` in ``_config.yml``.
While it is the placeholder (it contains ``your-org``), the build leaves out the
launch buttons (Binder, Colab) and the repository button, which would lead nowhere.
Prints the path of index.html; exits non-zero when the build has warnings.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["-W", "-n", "--keep-going"]
PLACEHOLDER = "your-org"


def is_placeholder(url):
    """True while ``repository.url`` is the placeholder of the course's own repository."""
    return not url or PLACEHOLDER in url


def edition_config(config, student=False):
    """The configuration (a dict) to build with: ``config`` with the edition's changes."""
    config = yaml.safe_load(yaml.safe_dump(config))  # a deep copy
    no_buttons = student or is_placeholder(config.get("repository", {}).get("url", ""))
    if no_buttons:
        launch = config.setdefault("launch_buttons", {})
        for key in ("binderhub_url", "colab_url", "jupyterhub_url"):
            launch[key] = ""
        launch["thebe"] = False
        config.setdefault("html", {})["use_repository_button"] = False
    if student:
        config["sphinx"]["config"]["hide_solutions"] = True
    return config


def build(out=None, student=False):
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(ROOT), *FLAGS]
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    if config["sphinx"]["config"].get("hide_solutions") is not False:
        raise SystemExit("_config.yml must set sphinx.config.hide_solutions: false (the full edition)")
    # next to _config.yml: Jupyter Book resolves the config's local_extensions paths
    # relative to the config file's folder
    tmp = tempfile.NamedTemporaryFile("w", prefix=".edition_config_", suffix=".yml", dir=ROOT,
                                      delete=False, encoding="utf-8")
    yaml.safe_dump(edition_config(config, student), tmp, allow_unicode=True, sort_keys=False)
    tmp.close()
    cmd += ["--config", tmp.name]
    if student:
        out = out or ROOT / "_build" / "student"
    if out is not None:
        cmd += ["--path-output", str(out)]
    try:
        rc = subprocess.call(cmd, cwd=ROOT)
    finally:
        Path(tmp.name).unlink()
    html = (Path(out) if out else ROOT) / "_build" / "html" / "index.html"
    return rc, html


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--student", action="store_true",
                        help="the student edition: no solutions in the HTML or the sources")
    parser.add_argument("--out", metavar="DIR", help="output folder (the HTML lands in DIR/_build/html)")
    args = parser.parse_args()
    rc, html = build(args.out, args.student)
    if rc == 0:
        print(f"The book: {html}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
