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

Adding a check: write a function ``_check_NAME(student_fn, rng) -> list[str]``
that returns a list of problems (empty when everything is right) and decorate
it with ``@register("NAME")``. The helpers ``compare`` and ``compare_shapes``
produce consistent messages.
"""
from dataclasses import dataclass, field

import numpy as np

__all__ = ["check", "run_check", "CheckFailed", "CheckResult", "available_checks", "register", "compare"]

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


# ---------------------------------------------------------------------------
# The checks, one section per chapter. Each returns (problems, number_of_tests).
# ---------------------------------------------------------------------------


# --- chapter 04: gates ---
# Checks: lstm_step_forward, lstm_step_forward_no_forget, lstm_step_snippet,
# gate_saturation. When an answer is wrong, the ch. 4 checks try a list of
# typical mistakes (another gate order, tanh/sigmoid swapped, o*c instead of
# o*tanh(c), h and c mixed up, ...) and name the one the answer matches.
import itertools as _ch04_itertools

from .activations import sigmoid as _ch04_sigmoid

_CH04_GATES = ("i", "f", "o", "g")
_CH04_SHAPES = ((2, 3, 4), (1, 5, 2), (4, 2, 3))   # (N, D, H)


def _ch04_lstm_variant(x, prev_h, prev_c, Wx, Wh, b, *, order=_CH04_GATES,
                       forget_gate=True, g_act="tanh", gate_act="sigmoid",
                       h_mode="o*tanh(c)", c_mode="f*prev_c", a_mode="x,prev_h",
                       f_const=None):
    """One LSTM step with a chosen *mistake*, used only to diagnose wrong answers.

    ``order`` says which gate each of the four column blocks of the weights is
    read as (the course's order is i, f, o, g).
    """
    H = Wh.shape[0]
    if a_mode == "x,prev_h":
        a = x @ Wx + prev_h @ Wh + b
    elif a_mode == "x,prev_c":
        a = x @ Wx + prev_c @ Wh + b
    elif a_mode == "no bias":
        a = x @ Wx + prev_h @ Wh
    elif a_mode == "no recurrence":
        a = x @ Wx + b
    blocks = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    sq = _ch04_sigmoid if gate_act == "sigmoid" else np.tanh
    i, o = sq(blocks["i"]), sq(blocks["o"])
    f = sq(blocks["f"]) if forget_gate else np.ones_like(i)
    if f_const is not None:
        f = np.full_like(i, f_const)
    g = np.tanh(blocks["g"]) if g_act == "tanh" else _ch04_sigmoid(blocks["g"])
    old = prev_c if c_mode == "f*prev_c" else prev_h
    c = f * old + i * g
    if h_mode == "o*tanh(c)":
        h = o * np.tanh(c)
    elif h_mode == "o*c":
        h = o * c
    elif h_mode == "tanh(o*c)":
        h = np.tanh(o * c)
    elif h_mode == "o*tanh(prev_c)":
        h = o * np.tanh(prev_c)
    return h, c


def _ch04_mistakes(forget_gate):
    """(description, kwargs) of typical mistakes, most specific first."""
    out = []
    for perm in _ch04_itertools.permutations(_CH04_GATES):
        if perm != _CH04_GATES:
            out.append((
                f"your output matches an LSTM whose column blocks are read in the gate "
                f"order {', '.join(perm)}; the course uses i, f, o, g (columns 0:H are i, "
                f"H:2H are f, 2H:3H are o, 3H:4H are g)",
                dict(order=perm)))
    out += [
        ("your output matches an LSTM whose candidate g uses a sigmoid; g = tanh(a_g) "
         "(values in (-1, 1), so the cell can be written down as well as up)",
         dict(g_act="sigmoid")),
        ("your output matches an LSTM whose gates i, f, o use tanh; gates use the sigmoid "
         "so that they lie in (0, 1)", dict(gate_act="tanh")),
        ("your output matches h = o * c; the output is h = o * tanh(c) (squash the cell "
         "state before the output gate scales it)", dict(h_mode="o*c")),
        ("your output matches h = tanh(o * c); the output is h = o * tanh(c)",
         dict(h_mode="tanh(o*c)")),
        ("your next_h uses the OLD cell state: h_t = o * tanh(c_t) needs the new c_t",
         dict(h_mode="o*tanh(prev_c)")),
        ("your output matches an LSTM that uses prev_h where prev_c belongs in the cell "
         "update: c_t = f * c_{t-1} + i * g keeps the previous CELL state",
         dict(c_mode="f*prev_h")),
        ("your output matches an LSTM whose gates read prev_c instead of prev_h: "
         "a = x Wx + h_{t-1} Wh + b uses the previous HIDDEN state",
         dict(a_mode="x,prev_c")),
        ("your output matches an LSTM without the bias b in a = x Wx + h_{t-1} Wh + b",
         dict(a_mode="no bias")),
        ("your output matches an LSTM without the recurrent term h_{t-1} Wh",
         dict(a_mode="no recurrence")),
    ]
    if forget_gate:
        out.append(("your output matches an LSTM without a forget gate (f = 1): "
                    "compute f = sigmoid(a_f) from columns H:2H and use c_t = f * c_{t-1} + i * g",
                    dict(forget_gate=False)))
    else:
        out.append(("your output matches the LSTM WITH a forget gate; the 1997 LSTM has "
                    "none: c_t = c_{t-1} + i * g, and columns H:2H are not used",
                    dict(forget_gate=True)))
        out.append(("your cell forgets everything (c_t = i * g): without a forget gate "
                    "the old state is kept in full, c_t = c_{t-1} + i * g",
                    dict(forget_gate=True, f_const=0.0)))
    return [(msg, dict(kw, forget_gate=kw.get("forget_gate", forget_gate))) for msg, kw in out]


def _ch04_as_pair(result, names=("next_h", "next_c")):
    """The first two entries of a student's return value, or a problem message."""
    if result is None:
        return None, "your function returned None (did you forget to return next_h, next_c?)"
    if isinstance(result, np.ndarray) or not isinstance(result, (tuple, list)) or len(result) < 2:
        return None, (f"return a tuple whose first two entries are {names[0]} and {names[1]} "
                      f"(got {type(result).__name__})")
    return (result[0], result[1]), None


def _ch04_random_case(rng, N, D, H, scale=1.0):
    x = rng.standard_normal((N, D))
    prev_h = rng.standard_normal((N, H)) * 0.8
    prev_c = rng.standard_normal((N, H)) * 1.5
    Wx = rng.standard_normal((D, 4 * H)) * scale
    Wh = rng.standard_normal((H, 4 * H)) * scale
    b = rng.standard_normal(4 * H) * scale
    return x, prev_h, prev_c, Wx, Wh, b


def _ch04_diagnose(got_h, got_c, args, forget_gate, mistakes=None):
    """Name the typical mistake that reproduces (got_h, got_c), if any."""
    got_h, got_c = np.asarray(got_h), np.asarray(got_c)
    for msg, kw in (mistakes if mistakes is not None else _ch04_mistakes(forget_gate)):
        h, c = _ch04_lstm_variant(*args, **kw)
        if h.shape == got_h.shape and c.shape == got_c.shape and \
                np.allclose(got_h, h, rtol=1e-6, atol=1e-9) and \
                np.allclose(got_c, c, rtol=1e-6, atol=1e-9):
            return msg
    # swapped return values
    h, c = _ch04_lstm_variant(*args, forget_gate=forget_gate)
    if got_h.shape == c.shape and np.allclose(got_h, c, rtol=1e-6, atol=1e-9) and \
            np.allclose(got_c, h, rtol=1e-6, atol=1e-9):
        return "you returned (next_c, next_h); return next_h first, then next_c"
    return None


def _ch04_check_step(student_fn, rng, forget_gate):
    problems, n = [], 0
    for N, D, H in _CH04_SHAPES:
        args = _ch04_random_case(rng, N, D, H)
        from .lstm import lstm_step_forward as _ref
        ref_h, ref_c, _ = _ref(*args, forget_gate=forget_gate)
        result = student_fn(*(np.copy(a) for a in args))
        n += 1
        pair, msg = _ch04_as_pair(result)
        if msg:
            return [msg], n
        got_h, got_c = pair
        errs = compare("next_h", got_h, ref_h, 1e-7) + compare("next_c", got_c, ref_c, 1e-7)
        if errs:
            hint = None
            if not any("shape" in e or "None" in e or "NaN" in e for e in errs):
                hint = _ch04_diagnose(got_h, got_c, args, forget_gate)
            where = f"(N, D, H) = {(N, D, H)}"
            return [f"{e}  [test with {where}]" for e in errs] + \
                ([f"diagnosis: {hint}"] if hint else []), n
    # the state must not be modified in place
    args = _ch04_random_case(rng, 2, 3, 4)
    copies = [np.copy(a) for a in args]
    student_fn(*args)
    n += 1
    for name, a, c0 in zip(("x", "prev_h", "prev_c", "Wx", "Wh", "b"), args, copies):
        if not np.array_equal(a, c0):
            problems.append(f"your function modified its input {name} in place; "
                            "compute new arrays instead")
    return problems, n


@register("lstm_step_forward")
def _check_lstm_step_forward(student_fn, rng):
    """``student_fn(x, prev_h, prev_c, Wx, Wh, b)`` -> (next_h, next_c, ...)."""
    return _ch04_check_step(student_fn, rng, forget_gate=True)


@register("lstm_step_forward_no_forget")
def _check_lstm_step_forward_no_forget(student_fn, rng):
    """The 1997 LSTM (f = 1; columns H:2H unused) -> (next_h, next_c, ...)."""
    problems, n = _ch04_check_step(student_fn, rng, forget_gate=False)
    if problems:
        return problems, n
    # the f block must really be ignored
    args = list(_ch04_random_case(rng, 2, 3, 4))
    h1, c1 = _ch04_as_pair(student_fn(*args))[0] or (None, None)
    args[3] = args[3].copy()
    args[3][:, 4:8] += 3.0
    args[5] = args[5].copy()
    args[5][4:8] -= 3.0
    h2, c2 = _ch04_as_pair(student_fn(*args))[0] or (None, None)
    n += 1
    if h1 is not None and h2 is not None and not (np.allclose(h1, h2) and np.allclose(c1, c2)):
        problems.append("your output changes when the forget-gate columns H:2H of Wx and b "
                        "change; the 1997 LSTM has no forget gate and must ignore them")
    return problems, n


def _ch04_snippet_to_course(W, U, b):
    """(4H, D), (4H, H), (4H,) in block order a(=g), i, f, o -> Wx, Wh, b in i, f, o, g."""
    H = U.shape[1]

    def reorder(m):  # last axis in blocks a, i, f, o -> i, f, o, a
        blocks = [m[..., k * H:(k + 1) * H] for k in range(4)]
        return np.concatenate(blocks[1:] + blocks[:1], axis=-1)
    return reorder(W.T), reorder(U.T), reorder(b)


@register("lstm_step_snippet")
def _check_lstm_step_snippet(student_fn, rng):
    """The fixed snippet: ``student_fn(x, prev_h, prev_c, W, U, b)`` -> (h, c, ...)
    with W (4H, D), U (4H, H), b (4H,), blocks in the snippet's order a, i, f, o."""
    from .lstm import lstm_step_forward as _ref
    n = 0
    for N, D, H in _CH04_SHAPES:
        x = rng.standard_normal((N, D))
        prev_h = rng.standard_normal((N, H)) * 0.8
        prev_c = rng.standard_normal((N, H)) * 1.5
        W = rng.standard_normal((4 * H, D))
        U = rng.standard_normal((4 * H, H))
        b = rng.standard_normal(4 * H)
        Wx, Wh, bb = _ch04_snippet_to_course(W, U, b)
        ref_h, ref_c, _ = _ref(x, prev_h, prev_c, Wx, Wh, bb)
        n += 1
        try:
            result = student_fn(x.copy(), prev_h.copy(), prev_c.copy(), W.copy(), U.copy(), b.copy())
        except UnboundLocalError as exc:
            return [f"your function raised UnboundLocalError ({exc}): a variable is read "
                    "before it is assigned. Look at the right-hand side of the cell "
                    "update: which variable holds the PREVIOUS cell state?"], n
        pair, msg = _ch04_as_pair(result, ("h", "c"))
        if msg:
            return [msg], n
        got_h, got_c = pair
        errs = compare("h", got_h, ref_h, 1e-7) + compare("c", got_c, ref_c, 1e-7)
        if errs:
            args = (x, prev_h, prev_c, Wx, Wh, bb)
            # the "naive" fix: the activation wraps only x W^T
            a_in = _ch04_snippet_to_course(W, np.zeros_like(U), np.zeros_like(b))
            zi, zf, zo, za = np.split(x @ a_in[0], 4, axis=1)
            rest = prev_h @ Wh + bb
            ri, rf, ro, ra = np.split(rest, 4, axis=1)
            i, f, o = _ch04_sigmoid(zi) + ri, _ch04_sigmoid(zf) + rf, _ch04_sigmoid(zo) + ro
            g = np.tanh(za) + ra
            naive_c = f * prev_c + i * g
            naive_h = o * np.tanh(naive_c)
            if np.shape(got_c) == naive_c.shape and np.allclose(got_c, naive_c) and \
                    np.allclose(got_h, naive_h):
                return errs + ["diagnosis: your _activation wraps only x.dot(W.T); the "
                               "recurrent part and the bias are added AFTER the squashing, "
                               "so your 'gates' are not in (0, 1). Move the parenthesis so "
                               "that _activation gets the whole pre-activation"], n
            hint = _ch04_diagnose(got_h, got_c, args, True,
                                  [m for m in _ch04_mistakes(True) if "order" not in m[1]])
            if hint is None:
                for perm in _ch04_itertools.permutations(_CH04_GATES):
                    h_, c_ = _ch04_lstm_variant(*args, order=perm)
                    if np.shape(got_h) == h_.shape and np.allclose(got_h, h_) and np.allclose(got_c, c_):
                        hint = ("your output matches the snippet with its four blocks used in "
                                "another order. Keep `a, i, f, o = np.hsplit(lstm_in, 4)`: "
                                "_activation applies tanh to the first block (the candidate a) "
                                "and the sigmoid to the other three (the gates i, f, o)")
                        break
            return errs + ([f"diagnosis: {hint}"] if hint else []), n
    return [], n


@register("gate_saturation")
def _check_gate_saturation(student_fn, rng):
    """``student_fn(x, h, W, b)`` -> (a, s, ds): a = W [x; h] + b, s = sigmoid(a),
    ds = sigmoid'(a), for column vectors x (D,), h (H,), W (H, D + H), b (H,)."""
    cases = [(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]),
              np.array([[1.0] * 6, [2.0] * 6, [3.0] * 6]), np.ones(3))]
    for D, H in ((2, 3), (4, 2), (3, 3)):
        cases.append((rng.standard_normal(D) * 2, rng.standard_normal(H) * 2,
                      rng.standard_normal((H, D + H)), rng.standard_normal(H)))
    n = 0
    # random cases first: the worked example alone cannot tell tanh from sigmoid
    order = list(range(1, len(cases))) + [0]
    for k in order:
        x, h, W, b = cases[k]
        D = x.shape[0]
        a = W[:, :D] @ x + W[:, D:] @ h + b
        s = _ch04_sigmoid(a)
        e = np.exp(-np.abs(a))
        ds = e / (1.0 + e) ** 2          # sigmoid'(a), accurate even when s rounds to 1
        result = student_fn(x.copy(), h.copy(), W.copy(), b.copy())
        n += 1
        which = "the worked example" if k == 0 else f"a random test with D={D}, H={h.shape[0]}"
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            return [f"return the tuple (a, s, ds) (got {type(result).__name__})"], n
        got_a, got_s, got_ds = (np.asarray(r, dtype=float) if r is not None else None for r in result)
        errs = compare("a (pre-activation)", got_a, a, 1e-9)
        if errs:
            if got_a is not None and got_a.shape == a.shape:
                swapped = W[:, :h.shape[0]] @ h + W[:, h.shape[0]:] @ x + b if D == h.shape[0] else None
                if swapped is not None and np.allclose(got_a, swapped):
                    errs.append("diagnosis: W acts on the concatenation [x; h] (x first)")
                elif np.allclose(got_a, a - b):
                    errs.append("diagnosis: you forgot the bias b")
            return [f"{e}  [{which}]" for e in errs], n
        errs = compare("s = sigmoid(a)", got_s, s, 1e-9)
        if errs:
            return [f"{e}  [{which}]" for e in errs], n
        got_ds = None if got_ds is None else got_ds
        if got_ds is None:
            return ["ds: your function returned None"], n
        if got_ds.shape != ds.shape:
            return [f"ds: shape {got_ds.shape}, expected {ds.shape}"], n
        # absolute tolerance: s * (1 - s) is 0 in float64 once s rounds to 1
        bad = np.abs(got_ds - ds) > 1e-12 + 1e-6 * np.abs(ds)
        if np.any(bad):
            j = int(np.argmax(bad))
            msg = (f"ds = sigmoid'(a): entry {j} is {got_ds[j]:.6g}, expected {ds[j]:.6g} "
                   f"(at a = {a[j]:.4g})  [{which}]")
            if np.allclose(got_ds, a * (1 - a)):
                msg += "; diagnosis: sigmoid'(a) = s (1 - s) with s = sigmoid(a), not a (1 - a)"
            elif np.allclose(got_ds, s):
                msg += "; diagnosis: that is sigmoid(a) itself, not its derivative"
            return [msg], n
    return [], n


# --- chapter 02: vanishing and exploding gradients, clipping ---
def _ch02_flat_norm(arrays):
    """Global L2 norm of a dict of arrays (float64, as the reference computes it)."""
    return float(np.sqrt(sum(float(np.sum(np.asarray(g, dtype=np.float64) ** 2)) for g in arrays.values())))


def _ch02_call_quietly(fn, *args):
    """Call a student's function without numpy warnings (we report NaNs ourselves)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn(*args)


@register("clip_grad_norm")
def _check_clip_grad_norm(student_fn, rng):
    """clip_grad_norm(grads: dict, max_norm) -> norm before clipping; clips in place."""
    def random_grads(target_norm):
        shapes = {"Wx": (int(rng.integers(2, 5)), 6), "Wh": (6, 6), "b": (6,)}
        grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
        factor = target_norm / _ch02_flat_norm(grads)
        return {k: g * factor for k, g in grads.items()}

    # (description, gradient norm before clipping, max_norm)
    cases = [("a large gradient", 25.0, 5.0), ("a huge gradient", 3.0e4, 1.0),
             ("a small gradient", 0.3, 5.0), ("a gradient just above max_norm", 1.2, 1.0)]
    cases += [(f"random case {i}", float(10.0 ** rng.uniform(-2, 3)), float(10.0 ** rng.uniform(-1, 1)))
              for i in range(4)]
    n = 0
    for what, norm0, max_norm in cases:
        n += 1
        grads = random_grads(norm0)
        arrays = dict(grads)                              # the student's arrays (to test in-place)
        before = {k: g.copy() for k, g in grads.items()}
        norm = _ch02_flat_norm(before)
        returned = _ch02_call_quietly(student_fn, grads, max_norm)
        where = f"[{what}: norm {norm:.4g}, max_norm {max_norm:.4g}]"
        # 1. the returned value: the norm BEFORE clipping
        if returned is None:
            return [f"your function returned None; it must return the global norm before clipping "
                    f"({norm:.6g}) {where}"], n
        try:
            returned = float(returned)
        except (TypeError, ValueError):
            return [f"your function returned {type(returned).__name__}; expected one float, the global "
                    f"norm before clipping {where}"], n
        if not np.isclose(returned, norm, rtol=1e-7, atol=0.0):
            msg = f"returned norm {returned:.6g}, expected {norm:.6g} (the norm before clipping) {where}"
            if norm > max_norm and np.isclose(returned, max_norm, rtol=1e-6):
                msg += "; you returned the norm AFTER clipping: compute and keep the norm first"
            elif np.isclose(returned, norm ** 2, rtol=1e-6):
                msg += "; that is the squared norm: take the square root of the sum of squares"
            elif any(np.isclose(returned, np.linalg.norm(g), rtol=1e-6) for g in before.values()):
                msg += ("; that is the norm of ONE array: the global norm runs over all arrays "
                        "together, as if they were one long vector")
            return [msg], n
        # 2. in place: the same array objects must hold the result
        replaced = [k for k in arrays if grads.get(k) is not arrays[k]]
        if replaced:
            return [f"grads[{replaced[0]!r}] is a new array after your function {where}: modify the "
                    "arrays in place (e.g. `g *= factor` for each g in grads.values()), as "
                    "optim.clip_grad_norm does, because a model keeps references to its own arrays"], n
        # 3. the values
        after = {k: arrays[k] for k in arrays}
        if not all(np.all(np.isfinite(g)) for g in after.values()):
            return [f"your clipped gradient contains NaN or inf {where}"], n
        new_norm = _ch02_flat_norm(after)
        if norm <= max_norm:
            if not all(np.array_equal(after[k], before[k]) for k in before):
                return [f"the gradient was changed although its norm {norm:.4g} is already below "
                        f"max_norm {max_norm:.4g} (its norm is now {new_norm:.4g}) {where}: clipping "
                        "only ever SHRINKS a gradient; leave it untouched when norm <= max_norm"], n
            continue
        expected = {k: g * (max_norm / norm) for k, g in before.items()}
        if np.isclose(new_norm, max_norm, rtol=1e-7):
            # right length; is the direction the same?
            for k in before:
                errs = compare(f"clipped grads[{k!r}]", after[k], expected[k], 1e-7)
                if errs:
                    return [errs[0] + f" {where}; the norm is right but the direction changed: every "
                            "array must be multiplied by the SAME factor max_norm / norm"], n
            continue
        msg = (f"your clipped gradient has norm {new_norm:.6g} but should have {max_norm:.6g} "
               f"(it was {norm:.6g} before clipping) {where}")
        if np.isclose(new_norm, norm ** 2 / max_norm, rtol=1e-6):
            msg += ("; did you multiply by norm / max_norm instead of max_norm / norm? That "
                    "factor is > 1 here, so it ENLARGES an exploding gradient")
        elif np.isclose(new_norm, norm, rtol=1e-9):
            msg += "; the gradient was not changed at all: rescale it when norm > max_norm"
        elif all(np.linalg.norm(after[k]) <= max_norm * (1 + 1e-7) for k in after) and any(
                np.isclose(np.linalg.norm(after[k]), max_norm, rtol=1e-6) for k in after):
            msg += ("; it looks like each array was clipped on its own: use ONE global norm over "
                    "all arrays and one common factor")
        elif np.isclose(new_norm, 1.0, rtol=1e-6):
            msg += "; you normalised the gradient to length 1: multiply by max_norm / norm"
        return [msg], n

    # 4. an all-zero gradient: norm 0, nothing to do, and above all no 0/0
    n += 1
    grads = {"Wx": np.zeros((3, 6)), "Wh": np.zeros((6, 6)), "b": np.zeros(6)}
    arrays = dict(grads)
    returned = _ch02_call_quietly(student_fn, grads, 1.0)
    if any(not np.all(np.isfinite(g)) for g in list(arrays.values()) + list(grads.values())):
        return ["NaN for an all-zero gradient — guard the division: rescale only when norm > max_norm "
                "(then norm is positive), never divide by a zero norm"], n
    if returned is None or not np.isfinite(float(returned)) or float(returned) != 0.0:
        return [f"for an all-zero gradient your function returned {returned!r}; the norm is 0.0"], n
    if any(np.any(g != 0) for g in list(arrays.values()) + list(grads.values())):
        return ["an all-zero gradient must stay all zeros"], n
    return [], n


def _ch02_linear_rnn_jacobian_norm(scale, T, H=16, seed=0):
    """||dh_T/dh_0||_2 measured for the linear RNN h_t = h_{t-1} (scale Q) + x_t Wx.

    dh_t/dh_{t-1} = Wh^T, so dh_T/dh_0 = (Wh^T)^T: multiplied out step by step
    and its largest singular value taken (no formula used).
    """
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((H, H)))
    Wh = scale * q * np.sign(np.diag(r))
    J = np.eye(H)
    for _ in range(int(T)):
        J = Wh.T @ J
    return float(np.linalg.norm(J, 2))


@register("predict_gradient_norm")
def _check_predict_gradient_norm(student_fn, rng):
    """predict_gradient_norm(scale, T) -> ||dh_T/dh_0|| for a linear RNN with Wh = scale * Q.

    A plain number is accepted too: it is compared with the case scale = 0.9, T = 50.
    """
    cases = [(0.9, 50), (1.1, 50), (1.0, 100), (0.5, 10), (1.3, 7), (0.9, 1)]
    cases += [(round(float(rng.uniform(0.6, 1.4)), 3), int(rng.integers(2, 80))) for _ in range(3)]
    if not callable(student_fn):
        cases, fn = cases[:1], (lambda scale, T: student_fn)
    else:
        fn = student_fn
    H = 16
    for n, (scale, T) in enumerate(cases, start=1):
        measured = _ch02_linear_rnn_jacobian_norm(scale, T, H=H)
        got = _ch02_call_quietly(fn, scale, T)
        where = f"[scale = {scale}, T = {T}]"
        if got is None:
            return [f"your prediction is None {where}: return a number"], n
        try:
            got = float(got)
        except (TypeError, ValueError):
            return [f"your prediction is a {type(got).__name__}, expected a float {where}"], n
        if np.isfinite(got) and abs(got - measured) <= 1e-6 * abs(measured):
            continue
        msg = f"you predicted {got:.6g} but the measured ||dh_T/dh_0|| is {measured:.6g} {where}"
        hints = [
            (scale * T, "that is scale * T: the T Jacobians are MULTIPLIED, so the scale is raised to a power"),
            (scale ** (T - 1), "that is scale**(T-1): from h_0 to h_T there are T steps, hence T Jacobians"),
            (scale ** (T + 1), "that is scale**(T+1): from h_0 to h_T there are T steps, hence T Jacobians"),
            (np.sqrt(H) * scale ** T, "that is the Frobenius norm (sqrt(H) times too large); use the "
                                       "spectral norm, the largest singular value"),
            (np.exp(-scale * T), "where does exp come from? Each step multiplies by Wh^T"),
            (scale, "that is the norm of ONE Jacobian; there are T of them"),
        ]
        for value, hint in hints:
            if value != measured and np.isfinite(got) and abs(got - value) <= 1e-6 * abs(value):
                msg += f"; {hint}"
                break
        return [msg], n
    return [], len(cases)


def _ch02_tanh_rnn_case(rng, H, T, scale):
    """Random tanh-RNN data: Wh, the hidden states hs = h_1..h_T (T, H), and the reference norm.

    The reference Jacobian dh_T/dh_0 comes from the package's rnn_backward: run
    the sequence H times as a batch and send the H unit vectors back from h_T,
    so row k of dh0 is row k of the Jacobian.
    """
    from .rnn import rnn_backward, rnn_forward
    D = 3
    Wh = scale * rng.standard_normal((H, H)) / np.sqrt(H)
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    b = 0.1 * rng.standard_normal(H)
    x = rng.standard_normal((1, T, D))
    h0 = 0.5 * rng.standard_normal((1, H))
    h, cache = rnn_forward(np.repeat(x, H, axis=0), np.repeat(h0, H, axis=0), Wx, Wh, b)
    dh = np.zeros_like(h)
    dh[:, -1] = np.eye(H)
    _, jac, _, _, _ = rnn_backward(dh, cache)
    return Wh, h[0].copy(), float(np.linalg.norm(jac, 2))


@register("tanh_rnn_jacobian_norm")
def _check_tanh_rnn_jacobian_norm(student_fn, rng):
    """tanh_rnn_jacobian_norm(Wh (H, H), hs (T, H)) -> ||dh_T/dh_0||_2 (spectral norm)."""
    cases = [(4, 1, 1.0), (3, 5, 1.0), (5, 12, 2.0), (8, 30, 0.8), (6, 20, 3.0)]
    for n, (H, T, scale) in enumerate(cases, start=1):
        Wh, hs, ref = _ch02_tanh_rnn_case(rng, H, T, scale)
        got = _ch02_call_quietly(student_fn, Wh.copy(), hs.copy())
        where = f"[H = {H}, T = {T}]"
        if got is None:
            return [f"your function returned None {where}: return ||dh_T/dh_0|| as a float"], n
        try:
            got = float(got)
        except (TypeError, ValueError):
            return [f"your function returned a {type(got).__name__} {where}; expected one float, "
                    "the spectral norm of the (H, H) Jacobian"], n
        if np.isfinite(got) and abs(got - ref) <= 1e-7 * abs(ref):
            continue
        msg = f"||dh_T/dh_0|| is {got:.6g}, expected {ref:.6g} {where}"

        def prod(mats, reverse=False):
            M = np.eye(H)
            for A in mats:
                M = M @ A if reverse else A @ M
            return M

        d = 1.0 - hs ** 2
        J = [np.diag(d[t]) @ Wh.T for t in range(T)]
        alts = [
            (np.linalg.norm(prod(J), "fro"), "that is the Frobenius norm; use the spectral norm "
                                              "np.linalg.norm(J, 2) (the largest singular value)"),
            (np.linalg.norm(prod([np.diag(d[t]) @ Wh for t in range(T)]), 2),
             "Wh is not transposed: in the row convention h_t = tanh(x_t Wx + h_{t-1} Wh + b) the "
             "one-step Jacobian is diag(1 - h_t^2) Wh^T"),
            (np.linalg.norm(prod([Wh.T] * T), 2), "that is the norm of the LINEAR RNN: you left out "
                                                  "the tanh derivative diag(1 - h_t^2)"),
            (np.linalg.norm(prod([np.diag(1 - hs[t]) @ Wh.T for t in range(T)]), 2),
             "tanh'(a) = 1 - tanh(a)^2 = 1 - h_t**2, not 1 - h_t"),
            (np.linalg.norm(prod(J[1:]), 2) if T > 1 else np.nan,
             "only T-1 Jacobians were multiplied: h_0 -> h_T takes T steps, and step t uses h_t = hs[t-1]"),
            (np.linalg.norm(prod([np.diag(1 - np.vstack([np.zeros((1, H)), hs])[t] ** 2) @ Wh.T
                                  for t in range(T)]), 2),
             "the tanh derivative of step t must use the OUTPUT of that step, h_t = hs[t-1] "
             "(you used the previous state)"),
            (np.linalg.norm(prod(J, reverse=True), 2), "the Jacobians are multiplied in the wrong "
                                                       "order: dh_T/dh_0 = J_T J_{T-1} ... J_1"),
        ]
        for value, hint in alts:
            if np.isfinite(value) and not np.isclose(value, ref, rtol=1e-6) and np.isfinite(got) \
                    and abs(got - value) <= 1e-6 * abs(value):
                msg += f"; {hint}"
                break
        return [msg], n
    return [], len(cases)


# --- chapter 01: vanilla RNN and backpropagation through time ---
# Checks: rnn_step_backward, rnn_backward, char_rnn_grad_shapes, char_rnn_loss_fun.
# Helpers of this section start with ``_ch01_`` so they cannot clash with other chapters.


def _ch01_unpack(out, names):
    """The student's return value as a tuple of len(names), or (None, problems)."""
    want = f"the tuple ({', '.join(names)})"
    if out is None:
        return None, [f"your function returned None; expected {want} (did you forget `return`?)"]
    if not isinstance(out, (tuple, list)):
        return None, [f"your function returned a {type(out).__name__}; expected {want}"]
    if len(out) != len(names):
        return None, [f"your function returned {len(out)} values; expected {len(names)}: {want}"]
    return tuple(out), []


def _ch01_close(a, b, tol=1e-7):
    """True when a and b have the same shape and agree to relative error tol."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    return bool(np.all(np.abs(a - b) <= tol * np.maximum(1e-8, np.abs(a) + np.abs(b))))


def _ch01_normwise(a, b):
    """Norm-wise relative difference ||a - b|| / (||a|| + ||b||) (0 for two zeros)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


def _ch01_copy_cache(cache):
    """A copy of a (nested) cache, so a student's in-place change cannot hurt the checks."""
    if isinstance(cache, list):
        return [_ch01_copy_cache(c) for c in cache]
    return tuple(np.array(c, copy=True) if isinstance(c, np.ndarray) else c for c in cache)


def _ch01_step_backward_variants(dnext_h, cache):
    """Outputs of typical wrong step backwards: {hint: (dx, dprev_h, dWx, dWh, db)}."""
    x, prev_h, Wx, Wh, next_h = cache
    out = {}
    for hint, da in (
        ("did you forget to multiply by the tanh derivative (1 - next_h**2)?", dnext_h),
        ("the tanh derivative is 1 - next_h**2 (next_h is already tanh(a)); "
         "you seem to use 1 - next_h, without the square", dnext_h * (1 - next_h)),
        ("next_h is already tanh(a): the derivative is 1 - next_h**2, not 1 - tanh(next_h)**2",
         dnext_h * (1 - np.tanh(next_h) ** 2)),
        ("the local derivative of tanh must be evaluated at this step: use next_h (= h_t), "
         "not prev_h", dnext_h * (1 - prev_h ** 2)),
    ):
        out[hint] = (da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0))
    da = dnext_h * (1 - next_h ** 2)
    nan = np.full(1, np.nan)
    out["a = x Wx + prev_h Wh + b, so the gradient reaching prev_h is multiplied by the "
        "TRANSPOSE of Wh"] = (nan, da @ Wh, nan, nan, nan)
    return out


def _ch01_step_hints(label, got, expected, variants, index, N):
    """A hint for a wrong output of a step backward (or '' when none applies)."""
    got = np.asarray(got)
    if got.ndim == 2 and got.shape == expected.shape[::-1] and got.shape != expected.shape:
        return (f" — shape {got.shape} is the transpose of {expected.shape}: check the order of "
                "the factors in the product (and which one is transposed)")
    if got.shape == expected.shape and got.ndim == 2 and got.shape[0] == got.shape[1] \
            and _ch01_close(got, expected.T):
        return " — this is the transpose of the right gradient: check the order of the factors"
    if label == "db" and got.shape == (N,) + expected.shape:
        return (" — b is added to every row of the batch, so its gradient is summed over the "
                "batch axis (axis 0)")
    for hint, outs in variants.items():
        if _ch01_close(got, outs[index]):
            return " — " + hint
    return ""


@register("rnn_step_backward")
def _check_rnn_step_backward(student_fn, rng):
    """rnn_step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)."""
    from .gradcheck import eval_numerical_gradient_array
    from .rnn import rnn_step_backward, rnn_step_forward

    names = ("dx", "dprev_h", "dWx", "dWh", "db")
    n_tests = 0
    shapes = [(3, 5, 4), (2, 3, 6), (1, 4, 4), (4, 2, 3)]
    for N, D, H in shapes:
        x = rng.standard_normal((N, D))
        prev_h = rng.standard_normal((N, H))
        Wx = rng.standard_normal((D, H)) * 0.5
        Wh = rng.standard_normal((H, H)) * 0.5
        b = rng.standard_normal(H) * 0.5
        _, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
        dnext_h = rng.standard_normal((N, H))
        expected = rnn_step_backward(dnext_h, cache)
        got, problems = _ch01_unpack(student_fn(dnext_h.copy(), _ch01_copy_cache(cache)), names)
        n_tests += 1
        if problems:
            return problems, n_tests
        variants = _ch01_step_backward_variants(dnext_h, cache)
        for k, (name, g, e) in enumerate(zip(names, got, expected)):
            for msg in compare(f"{name} (N={N}, D={D}, H={H})", g, e):
                problems.append(msg + _ch01_step_hints(name, g, e, variants, k, N))
        if problems:
            return problems, n_tests

    # Independent of the reference: centred differences on the forward pass.
    N, D, H = 2, 3, 4
    x, prev_h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.5, rng.standard_normal(H)
    _, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
    dnext_h = rng.standard_normal((N, H))
    got, problems = _ch01_unpack(student_fn(dnext_h.copy(), _ch01_copy_cache(cache)), names)
    if problems:
        return problems, n_tests
    inputs = {"dx": x, "dprev_h": prev_h, "dWx": Wx, "dWh": Wh, "db": b}
    for name, g in zip(names, got):
        arr = inputs[name]
        num = eval_numerical_gradient_array(
            lambda: rnn_step_forward(x, prev_h, Wx, Wh, b)[0], arr, dnext_h)
        n_tests += 1
        if np.shape(g) != num.shape:
            problems.append(f"{name}: shape {np.shape(g)}, expected {num.shape} (numerical gradient check)")
        else:
            err = _ch01_normwise(g, num)
            if err > 1e-6:
                problems.append(f"{name}: differs from the numerical gradient by relative error {err:.1e}")
    return problems, n_tests


def _ch01_rnn_backward_variant(dh, cache, mode):
    """rnn_backward with one typical bug switched on (for hints only)."""
    from .rnn import rnn_step_backward

    T = len(cache)
    x0, _, Wx, Wh, _ = cache[0]
    N, H = dh.shape[0], Wh.shape[0]
    dx = np.zeros((N, T, x0.shape[1]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dprev = np.zeros((N, H))
    order = range(T) if mode == "forward_in_time" else reversed(range(T))
    for t in order:
        if mode == "no_dprev":
            upstream = dh[:, t]
        elif mode == "no_dh":
            upstream = dprev
        else:
            upstream = dh[:, t] + dprev
        dx[:, t], dprev, dWx_t, dWh_t, db_t = rnn_step_backward(upstream, cache[t])
        if mode == "overwrite":
            dWx, dWh, db = dWx_t, dWh_t, db_t
        else:
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev, dWx, dWh, db


_CH01_RNN_BACKWARD_HINTS = {
    "overwrite": "equals the gradient of ONE time step only: Wx, Wh and b are shared by all "
                 "T steps, so add up (+=) the contributions of every step",
    "no_dprev": "you seem to ignore the gradient flowing back from step t+1: h_t is used by the "
                "layer above (dh[:, t]) AND by the next step, and the gradients of a reused value add",
    "no_dh": "you seem to use only the gradient flowing back in time: h_t also receives "
             "dh[:, t] from the layer above",
    "forward_in_time": "the loop must run backwards in time (t = T-1, ..., 0): step t needs the "
                       "gradient that step t+1 sends back",
}


@register("rnn_backward")
def _check_rnn_backward(student_fn, rng):
    """rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)."""
    from .gradcheck import eval_numerical_gradient_array
    from .rnn import rnn_backward, rnn_forward

    names = ("dx", "dh0", "dWx", "dWh", "db")
    n_tests = 0
    for N, T, D, H in [(2, 4, 3, 5), (3, 1, 4, 4), (1, 6, 2, 3), (2, 5, 5, 2)]:
        x = rng.standard_normal((N, T, D))
        h0 = rng.standard_normal((N, H))
        Wx = rng.standard_normal((D, H)) * 0.5
        Wh = rng.standard_normal((H, H)) * 0.5
        b = rng.standard_normal(H) * 0.5
        _, cache = rnn_forward(x, h0, Wx, Wh, b)
        dh = rng.standard_normal((N, T, H))
        expected = rnn_backward(dh, cache)
        got, problems = _ch01_unpack(student_fn(dh.copy(), _ch01_copy_cache(cache)), names)
        n_tests += 1
        if problems:
            return problems, n_tests
        variants = {m: _ch01_rnn_backward_variant(dh, cache, m) for m in _CH01_RNN_BACKWARD_HINTS}
        for k, (name, g, e) in enumerate(zip(names, got, expected)):
            for msg in compare(f"{name} (N={N}, T={T}, D={D}, H={H})", g, e):
                hint = ""
                for mode, outs in variants.items():
                    if _ch01_close(g, outs[k]):
                        hint = " — " + _CH01_RNN_BACKWARD_HINTS[mode]
                        break
                problems.append(msg + hint)
        if problems:
            return problems, n_tests

    # Independent of the reference: centred differences through the whole sequence.
    N, T, D, H = 2, 3, 2, 3
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.5, rng.standard_normal(H)
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal((N, T, H))
    got, problems = _ch01_unpack(student_fn(dh.copy(), _ch01_copy_cache(cache)), names)
    if problems:
        return problems, n_tests
    for name, arr, g in zip(names, (x, h0, Wx, Wh, b), got):
        num = eval_numerical_gradient_array(lambda: rnn_forward(x, h0, Wx, Wh, b)[0], arr, dh)
        n_tests += 1
        if np.shape(g) != num.shape:
            problems.append(f"{name}: shape {np.shape(g)}, expected {num.shape} (numerical gradient check)")
        else:
            err = _ch01_normwise(g, num)
            if err > 1e-6:
                problems.append(f"{name}: differs from the numerical gradient by relative error {err:.1e}")
    return problems, n_tests


_CH01_SHAPE_HINTS = {
    "dWxh": "a gradient has the shape of what it is the gradient of: what is the shape of Wxh "
            "in min-char-rnn's column convention?",
    "dWhh": "a gradient has the shape of what it is the gradient of: Whh maps h_{t-1} to h_t",
    "dWhy": "a gradient has the shape of what it is the gradient of: Why maps h_t to the V scores",
    "dbh": "min-char-rnn uses column vectors: what is the shape of bh?",
    "dby": "min-char-rnn uses column vectors: what is the shape of by?",
    "dy": "dy is the gradient with respect to the scores y = Why h + by of ONE step",
    "dh": "dh is the gradient with respect to the hidden state h_t of one step (a column)",
    "dhraw": "dhraw is the gradient with respect to the pre-activation (what goes into tanh)",
    "dhnext": "dhnext is the gradient sent back to h_{t-1}",
}


@register("char_rnn_grad_shapes")
def _check_char_rnn_grad_shapes(student_fn, rng):
    """grad_shapes(V, H) -> dict name -> shape tuple for min-char-rnn's gradients."""
    n_tests = 0
    for V, H in [(7, 5), (65, 100), (3, 11), (int(rng.integers(12, 40)), int(rng.integers(41, 80)))]:
        expected = {
            "dWxh": (H, V), "dWhh": (H, H), "dWhy": (V, H), "dbh": (H, 1), "dby": (V, 1),
            "dy": (V, 1), "dh": (H, 1), "dhraw": (H, 1), "dhnext": (H, 1),
        }
        got = student_fn(V, H)
        n_tests += 1
        if not isinstance(got, dict):
            return [f"your function returned a {type(got).__name__}; expected a dict "
                    "name -> shape tuple, e.g. {'dWxh': (..., ...), ...}"], n_tests
        missing = [k for k in expected if k not in got]
        if missing:
            return [f"missing entries: {missing} (expected the keys {list(expected)})"], n_tests
        problems = []
        for k, shape in expected.items():
            try:
                mine = tuple(int(s) for s in got[k])
            except TypeError:
                problems.append(f"{k}: {got[k]!r} is not a shape tuple such as (3, 1)")
                continue
            if mine != shape:
                problems.append(f"{k}: your shape {mine} is wrong for V={V}, H={H} — "
                                + _CH01_SHAPE_HINTS[k])
        if problems:
            return problems, n_tests
    return [], n_tests


def _ch01_minchar(inputs, targets, hprev, params, bug=None):
    """min-char-rnn's loss and gradients, with one typical bug switched on (hints only)."""
    Wxh, Whh, Why, bh, by = (params[k] for k in ("Wxh", "Whh", "Why", "bh", "by"))
    V = Wxh.shape[1]
    xs, hs, ps = {}, {-1: hprev}, {}
    for t, ix in enumerate(inputs):
        xs[t] = np.zeros((V, 1))
        xs[t][ix] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        e = np.exp(Why @ hs[t] + by - np.max(Why @ hs[t] + by))
        ps[t] = e / e.sum()
    g = {k: np.zeros_like(params[k[1:]]) for k in ("dWxh", "dWhh", "dWhy", "dbh", "dby")}
    dhnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        if bug == "reset":
            g = {k: np.zeros_like(v) for k, v in g.items()}
        g["dWhy"] += dy @ hs[t].T
        g["dby"] += dy
        dh = Why.T @ dy + (0 if bug == "no_dhnext" else dhnext)
        dhraw = dh if bug == "no_tanh" else (1 - hs[t] ** 2) * dh
        g["dbh"] += dhraw
        g["dWxh"] += dhraw @ xs[t].T
        g["dWhh"] += dhraw @ (hs[t] if bug == "hs_t" else hs[t - 1]).T
        dhnext = (Whh if bug == "no_transpose" else Whh.T) @ dhraw
    return g


_CH01_LOSS_FUN_HINTS = {
    "no_transpose": "the gradient sent back to h_{t-1} is wrong: h_t depends on h_{t-1} through "
                    "Whh h_{t-1}, so the backward pass multiplies by the TRANSPOSE of Whh",
    "hs_t": "dWhh: at step t, Whh multiplies the PREVIOUS hidden state h_{t-1} (hs[t-1]), "
            "not h_t",
    "no_dhnext": "the gradient flowing back in time is missing: dh must include what step t+1 "
                 "sends back (dhnext)",
    "no_tanh": "the gradient does not go through the tanh: multiply by (1 - h_t**2)",
    "reset": "your gradients hold one time step only: the weights are shared, so the "
             "contributions of all steps must be added up (initialise once, before the loop)",
}


@register("char_rnn_loss_fun")
def _check_char_rnn_loss_fun(student_fn, rng):
    """loss_fun(inputs, targets, hprev, params) -> (loss, grads, h_last) of min-char-rnn."""
    from .char_rnn import loss_fun
    from .gradcheck import eval_numerical_gradient

    names = ("loss", "grads", "h_last")
    gnames = ("dWxh", "dWhh", "dWhy", "dbh", "dby")
    n_tests = 0
    for V, H, T, scale in [(6, 5, 1, 0.5), (7, 4, 8, 0.5), (5, 6, 15, 0.3), (9, 3, 25, 0.1)]:
        params = {"Wxh": rng.standard_normal((H, V)) * scale, "Whh": rng.standard_normal((H, H)) * scale,
                  "Why": rng.standard_normal((V, H)) * scale, "bh": rng.standard_normal((H, 1)) * scale,
                  "by": rng.standard_normal((V, 1)) * scale}
        inputs = [int(i) for i in rng.integers(0, V, T)]
        targets = [int(i) for i in rng.integers(0, V, T)]
        hprev = np.tanh(rng.standard_normal((H, 1)))
        loss, grads, h_last = loss_fun(inputs, targets, hprev, params)
        saved = {k: v.copy() for k, v in params.items()}
        got, problems = _ch01_unpack(student_fn(list(inputs), list(targets), hprev.copy(), params), names)
        n_tests += 1
        if problems:
            return problems, n_tests
        changed = [k for k in saved if not np.array_equal(saved[k], params[k])]
        if changed:
            return [f"your function changed params{changed} in place; it must only read the "
                    "parameters"], n_tests
        where = f"(V={V}, H={H}, T={T})"
        s_loss, s_grads, s_h = got
        try:
            s_loss = float(s_loss)
        except (TypeError, ValueError):
            return [f"loss {where}: expected a number, got {type(s_loss).__name__}"], n_tests
        if not np.isclose(s_loss, loss, rtol=1e-9, atol=1e-12):
            problems.append(f"loss {where}: yours {s_loss:.10g}, expected {loss:.10g} (the forward "
                            "pass is wrong: -log of the probability of each target, summed over time)")
        if not isinstance(s_grads, dict) or any(k not in s_grads for k in gnames):
            return problems + [f"grads {where}: expected a dict with the keys {list(gnames)}"], n_tests
        variants = {b: _ch01_minchar(inputs, targets, hprev, params, bug=b) for b in _CH01_LOSS_FUN_HINTS}
        for k in gnames:
            for msg in compare(f"{k} {where}", s_grads[k], grads[k]):
                hint = ""
                for bug, g in variants.items():
                    if _ch01_close(s_grads[k], g[k]):
                        hint = " — " + _CH01_LOSS_FUN_HINTS[bug]
                        break
                problems.append(msg + hint)
        problems += compare(f"h_last {where}", s_h, h_last)
        if problems:
            return problems, n_tests

    # Independent of the reference: centred differences of the student's own loss.
    V, H, T = 4, 3, 5
    params = {"Wxh": rng.standard_normal((H, V)) * 0.5, "Whh": rng.standard_normal((H, H)) * 0.5,
              "Why": rng.standard_normal((V, H)) * 0.5, "bh": rng.standard_normal((H, 1)) * 0.5,
              "by": rng.standard_normal((V, 1)) * 0.5}
    inputs = [int(i) for i in rng.integers(0, V, T)]
    targets = [int(i) for i in rng.integers(0, V, T)]
    hprev = np.tanh(rng.standard_normal((H, 1)))
    _, s_grads, _ = student_fn(inputs, targets, hprev.copy(), params)
    for k in gnames:
        num = eval_numerical_gradient(lambda: loss_fun(inputs, targets, hprev, params)[0], params[k[1:]])
        n_tests += 1
        err = _ch01_normwise(s_grads[k], num)
        if err > 1e-6:
            problems.append(f"{k}: differs from the numerical gradient by relative error {err:.1e}")
    return problems, n_tests
