"""Which code made a notebook's stored outputs: a stamp written at execution, checked by the tests.

The built book shows the outputs stored in the notebooks, and nbval does not compare
some of them (images, animations, cells tagged ``nbval-ignore-output``). Such an output
goes stale without any test noticing when the package code behind it changes. So
``tools/execute_notebooks.py`` writes into each notebook's metadata

    "lstm_course": {"package_digest": <sha256 of src/lstm_course>,
                    "code_digest":    <sha256 of the notebook's code cells>}

and ``tests/test_provenance.py`` recomputes both: a notebook whose stamp differs was
executed with other package code, or its code cells were edited since, and the test
names it with the command that re-executes it.

The package digest covers every file under ``src/lstm_course`` (code and data, not
``__pycache__``), by path and content, so a changed plot label, docstring or data file
counts: deciding which change "matters" to which output is what a stamp must not guess.
"""
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "lstm_course"
KEY = "lstm_course"


def package_digest(package=PACKAGE):
    """sha256 over the relative path and bytes of every file of the package."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(package).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_digest(nb):
    """sha256 of the sources of a notebook's code cells, in order."""
    digest = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode() + b"\0")
    return digest.hexdigest()


def stamp(nb, package=PACKAGE):
    """Record in ``nb.metadata`` which code produced its outputs (call right after executing)."""
    nb.metadata[KEY] = {"package_digest": package_digest(package), "code_digest": code_digest(nb)}


def staleness(nb, package=PACKAGE, package_now=None):
    """Why a notebook's outputs are stale (a list of reasons; empty when they are current)."""
    record = nb.metadata.get(KEY)
    if not isinstance(record, dict) or "package_digest" not in record:
        return ["it carries no provenance stamp (it was not executed by tools/execute_notebooks.py)"]
    reasons = []
    if record["package_digest"] != (package_now or package_digest(package)):
        reasons.append("src/lstm_course changed after it was executed")
    if record.get("code_digest") != code_digest(nb):
        reasons.append("its code cells changed after it was executed")
    return reasons
