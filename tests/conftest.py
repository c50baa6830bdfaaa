"""Shared fixtures. The built books are session-scoped: each is built once."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """Build the book (warnings are errors) into a temporary folder; return the html folder."""
    import build_book

    out = tmp_path_factory.mktemp("book")
    rc, index = build_book.build(out=out)
    assert rc == 0, "jupyter-book build -W -n failed: see the captured output above"
    return index.parent


@pytest.fixture(scope="session")
def built_student_book(tmp_path_factory):
    """The student edition (solutions hidden); return its html folder."""
    import build_book

    out = tmp_path_factory.mktemp("student_book")
    rc, index = build_book.build(out=out, student=True)
    assert rc == 0, "student edition build failed: see the captured output above"
    return index.parent
