"""The machinery of the exercise checks: register, run, compare, report.

Each chapter's checks live in ``chNN.py`` beside this file; ``__init__`` imports
them all, which registers them.
"""
from dataclasses import dataclass, field

import numpy as np

__all__ = ["check", "run_check", "CheckFailed", "CheckResult", "available_checks", "register", "compare",
           "compare_numerical", "normwise_rel_error"]

_CHECKS = {}


class CheckFailed(AssertionError):
    """Raised by :func:`check` when a student's implementation is wrong."""


@dataclass
class CheckResult:
    name: str
    problems: list = field(default_factory=list)
    n_tests: int = 0

    @property
    def passed(self):
        return not self.problems

    def __bool__(self):
        return self.passed


def register(name):
    """Decorator: register ``fn(student_fn, rng) -> list[str]`` as the check ``name``."""
    def deco(fn):
        _CHECKS[name] = fn
        return fn
    return deco


def available_checks():
    """Names of all registered checks, sorted."""
    return sorted(_CHECKS)


def compare(label, got, expected, tol=1e-7):
    """Problems (a list of str) comparing one output array with the reference.

    Reports a missing output, a wrong shape, or the largest relative error and
    where it happens. ``label`` reads like ``'dWx'`` or ``'next_c'``.
    """
    if got is None:
        return [f"{label}: your function returned None (did you forget to return it?)"]
    got = np.asarray(got)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        return [f"{label}: shape {got.shape}, expected {expected.shape}"]
    if not np.all(np.isfinite(got)):
        return [f"{label}: contains NaN or inf"]
    diff = np.abs(got - expected)
    scale = np.maximum(1e-8, np.abs(got) + np.abs(expected))
    rel = diff / scale
    worst = float(rel.max()) if rel.size else 0.0
    if worst > tol:
        where = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.size else ()
        return [f"{label}: relative error {worst:.1e} (tolerance {tol:.0e}); "
                f"worst entry at index {tuple(int(i) for i in where)}: "
                f"yours {got[where]:.6g}, expected {expected[where]:.6g}"]
    return []


def normwise_rel_error(a, b):
    """Norm-wise relative difference ||a - b|| / (||a|| + ||b||) (0 for two zeros)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


def compare_numerical(label, got, numerical, tol):
    """Problems (a list of str) comparing an analytic gradient with a numerical one."""
    if np.shape(got) != numerical.shape:
        return [f"{label}: shape {np.shape(got)}, expected {numerical.shape} (numerical gradient check)"]
    err = normwise_rel_error(got, numerical)
    if err > tol:
        return [f"{label}: differs from the numerical gradient by relative error {err:.1e}"]
    return []


def run_check(name, student_fn, seed=0):
    """Run the check ``name`` on ``student_fn`` and return a :class:`CheckResult` (no printing)."""
    if name not in _CHECKS:
        raise ValueError(f"unknown check {name!r}; available: {', '.join(available_checks())}")
    rng = np.random.default_rng(seed)
    try:
        problems, n_tests = _CHECKS[name](student_fn, rng)
    except NotImplementedError:
        problems, n_tests = ["not implemented yet: replace `raise NotImplementedError` with your code"], 0
    except Exception as exc:  # the student's code crashed: say where, briefly
        problems, n_tests = [f"your function raised {type(exc).__name__}: {exc}"], 0
    return CheckResult(name, list(problems), n_tests)


def check(name, student_fn, seed=0):
    """Check ``student_fn`` against the reference; print feedback; raise if wrong."""
    result = run_check(name, student_fn, seed=seed)
    if result.passed:
        print(f"✔ {name}: all {result.n_tests} tests passed.")
        return None
    print(f"✘ {name}: {len(result.problems)} problem(s) found")
    for p in result.problems:
        print(f"  - {p}")
    raise CheckFailed(f"{name}: {result.problems[0]}")
