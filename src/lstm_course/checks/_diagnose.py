"""The diagnosis engine of the gradient checks: where is a wrong gradient wrong, and why?

A check that finds a wrong output asks two kinds of question.

1. **Hypotheses.** Each typical mistake is written as a variant of the reference code
   (e.g. the step backward with ``h_t`` in place of ``h_{t-1}`` in dWh). When every
   output of the student's function agrees with one variant's outputs, that mistake is
   named exactly: :func:`first_match`.
2. **Patterns**, for what no hypothesis reproduces: an *error map* (relative error per
   time step × gate block, :func:`error_map`, shown by :func:`format_map`) and a few
   classifiers of how a wrong array relates to the right one: a constant factor
   (:func:`constant_factor`, named by :func:`name_factor`), the transpose, one time
   step's contribution instead of the sum (:func:`single_step`), a pattern of the map
   (:func:`describe_map`).

A third tool finds a wrong *helper*: a sequence backward that calls the student's own
step backward (a global of its notebook) is re-run with the reference step in its place
(:func:`helpers_called`, :func:`with_helper`).

Nothing here knows an exercise: the chapters' checks hold the hypotheses and the words.
"""
import types

import numpy as np

__all__ = ["rel_error", "same", "first_match", "block_errors", "implied_da", "error_map",
           "format_map", "describe_map", "constant_factor", "name_factor", "is_transpose",
           "single_step", "helpers_called", "with_helper", "RIGHT"]

RIGHT = 1e-6    # a relative error below this is "right" (rounding is ~1e-15)


def rel_error(a, b):
    """Norm-wise relative difference ||a - b|| / (||a|| + ||b||) in float64 (0 for two zeros)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


def same(a, b, tol=RIGHT):
    """True when a and b are arrays of one shape, finite, and agree to ``tol``."""
    if a is None or b is None:
        return False
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and rel_error(a, b) <= tol


def first_match(got, hypotheses):
    """The key of the first hypothesis that reproduces every output of ``got``, or None.

    ``got`` is the student's tuple of outputs; ``hypotheses`` maps a key to a tuple of
    the same length, the outputs of the reference code with one mistake switched on.
    An entry ``None`` in a hypothesis means "this mistake says nothing about that output"
    and is not compared.
    """
    for key, outs in hypotheses.items():
        if all(o is None or same(g, o) for g, o in zip(got, outs)):
            return key
    return None


def block_errors(got, expected, n_blocks=4):
    """Relative error of each of the ``n_blocks`` column blocks of the last axis, as a list."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    width = expected.shape[-1] // n_blocks
    return [rel_error(got[..., k * width:(k + 1) * width], expected[..., k * width:(k + 1) * width])
            for k in range(n_blocks)]


def implied_da(dx, Wx):
    """The pre-activation gradient da (N, T, A) that a dx (N, T, D) = da Wx^T implies.

    Exact when D >= A (Wx (D, A) has full column rank): da = dx (Wx^T)^+. The checks
    make a probe case with D >= 4H for this, so that a student's dx can be read gate
    by gate and step by step.
    """
    return np.asarray(dx, dtype=np.float64) @ np.linalg.pinv(np.asarray(Wx).T)


def error_map(got_da, expected_da, n_blocks=4):
    """(T, n_blocks) relative errors of da (N, T, n_blocks * H), per step t and block."""
    T = np.shape(expected_da)[1]
    return np.array([block_errors(np.asarray(got_da)[:, t], np.asarray(expected_da)[:, t], n_blocks)
                     for t in range(T)])


def _cell(err):
    """One entry of the map: '·' when right, else the error with one digit (at most 1)."""
    return f"{'·':>5}" if err <= RIGHT else f"{err:.0e}"


def format_map(emap, what, blocks=("i", "f", "o", "g")):
    """The error map as a small text table: one row per step t, '·' where it is right.

    The rows are indented by four spaces, to sit under the first line of a problem as
    ``check`` prints it ("  - ...").
    """
    head = "    " + " " * 7 + "".join(f"{b:>6}" for b in blocks)
    rows = [f"    t={t:<2}  " + "".join(f" {_cell(e)}" for e in row) for t, row in enumerate(emap)]
    return "\n".join([f"error map of {what} (relative error per step t; · = right):", head] + rows)


def describe_map(emap, blocks=("i", "f", "o", "g")):
    """A sentence for the pattern of an error map (T, n_blocks), or None.

    Right at the last step and wrong at every step before it -> the carry; one wrong
    block -> that block's line; i, f, g wrong with o right -> the cell gradient dc;
    one wrong step -> that step.
    """
    wrong = emap > RIGHT
    T = wrong.shape[0]
    if not wrong.any():
        return ("da is right at every step and in every gate: the mistake comes after da, "
                "in how the weight gradients or dh0 are formed from it")
    if T > 1 and not wrong[-1].any() and wrong[:-1].any(axis=1).all():
        return ("right at the last step t = T-1 and wrong at every step before it: the error "
                "that step t+1 sends back to step t (the carry) is missing or wrong")
    cols = [b for b, w in zip(blocks, wrong.any(axis=0)) if w]
    if len(blocks) == 4 and cols == ["o"]:
        return ("only the o block is wrong: look at do = dnext_h * tanh_c, which uses "
                "tanh(c_t) of the NEW cell state (tanh(c_{t-1}) is the classic slip)")
    if len(blocks) == 4 and cols == ["i", "f", "g"]:
        return ("i, f and g are wrong but o is right: these three receive their error through "
                "the cell state, so dc is wrong")
    if len(blocks) == 4 and len(cols) == 1:
        return f"only the {cols[0]} block is wrong: look at the lines for d{cols[0]} and da_{cols[0]}"
    rows = np.flatnonzero(wrong.any(axis=1))
    if len(rows) == 1:
        return f"only step t = {rows[0]} is wrong: what is special about that step in your loop?"
    return None


def constant_factor(got, expected):
    """c when got == c * expected (to 1e-6, c != 1, both non-zero), else None."""
    if not same(got, got) or np.shape(got) != np.shape(expected):
        return None
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    den = float(np.sum(expected * expected))
    if den == 0 or not np.any(got):
        return None
    c = float(np.sum(got * expected)) / den
    if abs(c - 1) < 1e-6 or not same(got, c * expected):
        return None
    return c


def name_factor(c, N=None, T=None):
    """Words for a constant factor between a gradient and the right one."""
    def near(v):
        return abs(c - v) <= 1e-6 * abs(v)
    if N and N > 1 and near(1 / N):
        return (f"exactly 1/N = 1/{N} of the right value: averaged over the batch where it "
                "must be summed (the loss is a sum over the batch)")
    if T and T > 1 and near(1 / T):
        return (f"exactly 1/T = 1/{T} of the right value: averaged over time where the "
                "contributions of the T steps must be summed")
    if N and T and N * T > 1 and near(1 / (N * T)):
        return f"exactly 1/(N T) of the right value: a mean where a sum belongs"
    if near(-1):
        return "the right value with the wrong sign"
    if near(round(c)) and round(c) >= 2:
        return f"exactly {round(c)} times the right value: a contribution counted {round(c)} times"
    return f"exactly {c:.4g} times the right value: a constant factor too many"


def is_transpose(got, expected):
    """True when got is the transpose of the right (square) matrix."""
    e = np.asarray(expected)
    return e.ndim == 2 and e.shape[0] == e.shape[1] and not same(e, e.T) and same(got, e.T)


def single_step(got, per_step):
    """The step t whose contribution alone equals got (per_step: T arrays), else None."""
    if len(per_step) < 2:
        return None
    for t, part in enumerate(per_step):
        if same(got, part):
            return t
    return None


def helpers_called(fn, n_args):
    """(name, function) of the global Python functions ``fn`` calls that take n_args arguments.

    A student's sequence backward calls their step backward by its global name; this
    finds it (and any other helper of that signature) without running anything.
    """
    found = []
    code = getattr(fn, "__code__", None)
    if code is None:
        return found
    for name in code.co_names:
        obj = getattr(fn, "__globals__", {}).get(name)
        if isinstance(obj, types.FunctionType) and obj is not fn and \
                obj.__code__.co_argcount == n_args:
            found.append((name, obj))
    return found


def with_helper(fn, name, replacement):
    """A copy of ``fn`` whose global ``name`` is ``replacement`` (fn itself is unchanged)."""
    env = dict(fn.__globals__)
    env[name] = replacement
    return types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__, fn.__closure__)
