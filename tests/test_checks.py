"""Properties every exercise check must have, whatever its chapter."""
import re

import nbformat
import numpy as np
import pytest
from pathlib import Path

from lstm_course import checks
from lstm_course.checks import CheckFailed, available_checks, check, run_check

ROOT = Path(__file__).resolve().parents[1]
ALL = available_checks()


def _stub(*args, **kwargs):
    raise NotImplementedError("your code here")


def _returns_none(*args, **kwargs):
    return None


def _returns_zeros(*args, **kwargs):
    return np.zeros(3)


def test_there_are_checks():
    assert len(ALL) >= 10


@pytest.mark.parametrize("name", ALL)
def test_an_unimplemented_stub_is_reported_as_such(name):
    result = run_check(name, _stub)
    assert not result.passed
    assert any("not implemented" in p for p in result.problems), result.problems


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("wrong", [_returns_none, _returns_zeros], ids=["none", "zeros"])
def test_a_function_that_computes_nothing_is_rejected(name, wrong):
    result = run_check(name, wrong)
    assert not result.passed, f"check {name!r} accepted a function that returns {wrong(1)!r}"
    assert result.problems and all(isinstance(p, str) and p for p in result.problems)


def test_check_prints_feedback_and_raises_on_failure(capsys):
    with pytest.raises(CheckFailed):
        check(ALL[0], _stub)
    out = capsys.readouterr().out
    assert ALL[0] in out and "not implemented" in out


def test_unknown_check_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="available"):
        run_check("no_such_check", _stub)


def test_every_check_cell_in_the_notebooks_names_a_registered_check():
    used = set()
    for nb_path in sorted((ROOT / "solutions").glob("ch*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                used.update(re.findall(r"""\bcheck\(\s*["']([A-Za-z0-9_]+)["']""", cell.source))
    assert used, "no check cells found in solutions/"
    unknown = used - set(ALL)
    assert not unknown, f"check cells call unregistered checks: {sorted(unknown)}"


def test_feedback_never_prints_reference_source():
    import inspect
    import lstm_course.lstm as lstm_mod
    import lstm_course.rnn as rnn_mod

    source_lines = {ln.strip() for mod in (lstm_mod, rnn_mod) for ln in inspect.getsource(mod).split("\n")
                    if len(ln.strip()) > 30 and not ln.strip().startswith(("#", '"', "'"))}
    for name in ALL:
        for wrong in (_returns_zeros, _returns_none):
            for p in run_check(name, wrong).problems:
                assert not any(src in p for src in source_lines), (name, p)


def test_instructors_page_shows_what_the_checks_print(capsys):
    """book/instructors.md quotes three real feedback messages: run its code, compare the text.

    Numbers are masked (their last digits are not the point and may vary with the BLAS);
    every word, every output named and every line of the error map must match.
    """
    page = (ROOT / "book" / "instructors.md").read_text(encoding="utf-8")
    section = page[page.index("## What the checks say when an answer is wrong"):]
    blocks = re.findall(r"```python\n(.*?)```\n\n```text\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 3

    def mask(text):
        return re.sub(r"-?\d+(\.\d+)?(e[+-]\d+)?", "#", text).strip()
    namespace = {}
    for code, shown in blocks:
        capsys.readouterr()
        with pytest.raises(CheckFailed):
            exec(code, namespace)
        assert mask(capsys.readouterr().out) == mask(shown)
