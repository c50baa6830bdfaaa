"""Shared test fixtures."""
import numpy as np
import pytest

from lstm_course.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error


@pytest.fixture(scope="session")
def grad_error():
    """``grad_error(f, x, analytic, df=None)``: relative error of an analytic gradient.

    ``f`` reads ``x``; it returns a scalar (``df=None``) or an array whose
    upstream gradient is ``df``. Two refinements over a bare
    ``rel_error(eval_numerical_gradient(...), analytic)`` make a < 1e-7 check
    reliable on *random* (hypothesis) inputs rather than a few lucky seeds:

    * Richardson extrapolation, (4 g(h) - g(2h)) / 3 with h = 1e-3: the h**2
      error terms of the two centred differences cancel, leaving O(h**4) and
      rounding (~1e-13 absolute, where a plain h = 1e-5 difference has ~1e-11).
    * Entries more than 1000 times smaller than the largest entry of the same
      gradient are measured relative to largest/1000 (``rel_error``'s eps):
      an entry that is ~0 by cancellation has no meaningful relative error.
    A wrong gradient still gives errors of 1e-3 or more.
    """

    def grad_error(f, x, analytic, df=None, h=1e-3):
        if df is None:
            g1, g2 = eval_numerical_gradient(f, x, h), eval_numerical_gradient(f, x, 2 * h)
        else:
            g1 = eval_numerical_gradient_array(f, x, df, h)
            g2 = eval_numerical_gradient_array(f, x, df, 2 * h)
        num = (4 * g1 - g2) / 3
        analytic = np.asarray(analytic, dtype=np.float64)
        assert analytic.shape == num.shape, f"gradient has shape {analytic.shape}, expected {num.shape}"
        scale = max(np.abs(num).max(initial=0.0), np.abs(analytic).max(initial=0.0))
        return rel_error(num, analytic, eps=max(1e-8, 1e-3 * scale))

    return grad_error


# --- the built books (session-scoped: each is built once) ------------------
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

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
