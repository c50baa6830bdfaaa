"""Automatic feedback for the exercises.

In an exercise notebook a check cell looks like::

    from lstm_course.checks import check
    check("rnn_step_backward", rnn_step_backward)

``check`` calls your function on random inputs, compares every output with the
reference implementation in this package (and, for backward passes, with
numerical gradients), and prints *specific* feedback: which output is wrong,
which gate, how large the error is, what shape was expected. It never prints
the reference code. When something is wrong it raises ``CheckFailed`` (an
``AssertionError``), so nbgrader's autograder scores the cell as failed.

The checks of chapter NN are in ``checks/chNN.py``. Adding a check: write a
function ``_check_NAME(student_fn, rng) -> (problems, n_tests)`` that returns
the list of problems found (empty when everything is right) and the number of
tests run, and decorate it with ``@register("NAME")``. ``compare`` produces
consistent messages for one output array; ``_diagnose`` is the engine that turns
a wrong gradient into a named cause (hypotheses that reproduce the student's outputs,
then the patterns of an error map per time step and gate).
"""
from ._core import (  # noqa: F401
    CheckFailed,
    CheckResult,
    available_checks,
    check,
    compare,
    register,
    run_check,
)
from . import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08  # noqa: F401  (registers the checks)

__all__ = ["check", "run_check", "CheckFailed", "CheckResult", "available_checks", "register", "compare"]
