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
    try:
        returned = _ch02_call_quietly(student_fn, grads, 1.0)
    except ZeroDivisionError:
        return ["ZeroDivisionError for an all-zero gradient — guard the division: rescale only when "
                "norm > max_norm (then norm is positive), never divide by a zero norm"], n
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
    cases = [(3, 5, 1.0), (4, 1, 1.0), (5, 12, 2.0), (8, 30, 0.8), (6, 20, 3.0)]
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
            (np.linalg.norm(prod(J[1:]), 2),
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


# --- chapter 05: peephole connections ---
# Checks: lstm_step_forward_peephole, peephole_grads, peephole_output_gate.
# When an answer is wrong they compute typical peephole mistakes on the
# reference side (output gate peeking at c_{t-1}, a forgotten peephole, p_i and
# p_f swapped, the extra path into dc forgotten, ...) and name the one matched.
from .activations import sigmoid as _ch05_sigmoid

_CH05_SHAPES = ((2, 3, 4), (1, 5, 2), (4, 2, 3))   # (N, D, H)


def _ch05_case(rng, N, D, H):
    x = rng.standard_normal((N, D))
    prev_h = rng.standard_normal((N, H)) * 0.8
    prev_c = rng.standard_normal((N, H)) * 1.5
    Wx = rng.standard_normal((D, 4 * H))
    Wh = rng.standard_normal((H, 4 * H))
    b = rng.standard_normal(4 * H)
    p_i, p_f, p_o = (rng.standard_normal(H) * 1.2 for _ in range(3))
    return x, prev_h, prev_c, Wx, Wh, b, p_i, p_f, p_o


def _ch05_step_variant(x, prev_h, prev_c, Wx, Wh, b, p_i, p_f, p_o, *, o_sees="next_c",
                       i_peep=True, f_peep=True, swap_if=False, after_sigmoid=False,
                       peep_state="prev_c"):
    """One peephole LSTM step with a chosen *mistake* (diagnosis only)."""
    H = Wh.shape[0]
    a = x @ Wx + prev_h @ Wh + b
    a_i, a_f, a_o, a_g = (a[:, k * H:(k + 1) * H] for k in range(4))
    if swap_if:
        p_i, p_f = p_f, p_i
    s = prev_c if peep_state == "prev_c" else prev_h
    if after_sigmoid:   # sigma(a) + p * c instead of sigma(a + p * c)
        i = _ch05_sigmoid(a_i) + (p_i * s if i_peep else 0)
        f = _ch05_sigmoid(a_f) + (p_f * s if f_peep else 0)
    else:
        i = _ch05_sigmoid(a_i + (p_i * s if i_peep else 0))
        f = _ch05_sigmoid(a_f + (p_f * s if f_peep else 0))
    g = np.tanh(a_g)
    c = f * prev_c + i * g
    if o_sees == "next_c":
        o = _ch05_sigmoid(a_o + p_o * c) if not after_sigmoid else _ch05_sigmoid(a_o) + p_o * c
    elif o_sees == "prev_c":
        o = _ch05_sigmoid(a_o + p_o * prev_c)
    elif o_sees == "after":
        o = _ch05_sigmoid(a_o) + p_o * c
    else:
        o = _ch05_sigmoid(a_o)
    return o * np.tanh(c), c


_CH05_STEP_MISTAKES = [
    ("your output gate peeks at the OLD cell state: with peepholes the output gate sees "
     "the NEW one, o = sigmoid(a_o + p_o * c_t), so compute c_t first and the output gate "
     "after it", dict(o_sees="prev_c")),
    ("your output gate has no peephole: o = sigmoid(a_o + p_o * c_t)", dict(o_sees="none")),
    ("your input gate has no peephole: i = sigmoid(a_i + p_i * c_{t-1})", dict(i_peep=False)),
    ("your forget gate has no peephole: f = sigmoid(a_f + p_f * c_{t-1})", dict(f_peep=False)),
    ("your output matches an LSTM without any peepholes (p_i, p_f, p_o are ignored)",
     dict(o_sees="none", i_peep=False, f_peep=False)),
    ("you swapped p_i and p_f: the input gate uses p_i, the forget gate p_f",
     dict(swap_if=True)),
    ("you add the peephole term AFTER the sigmoid; it belongs inside: "
     "i = sigmoid(a_i + p_i * c_{t-1}) (likewise f and o), so the gates stay in (0, 1)",
     dict(after_sigmoid=True)),
    ("your output gate adds the peephole term AFTER the sigmoid; it belongs inside: "
     "o = sigmoid(a_o + p_o * c_t)", dict(o_sees="after")),
    ("your input and forget gates peek at prev_h instead of the cell state prev_c: "
     "a peephole looks at the CELL (the whole point: h_{t-1} is blind when o is closed)",
     dict(peep_state="prev_h")),
    ("your input and forget gates peek at prev_h instead of prev_c, and the output gate at "
     "c_{t-1}", dict(peep_state="prev_h", o_sees="prev_c")),
    ("your output gate peeks at c_{t-1} and the input gate has no peephole",
     dict(o_sees="prev_c", i_peep=False)),
]


def _ch05_diagnose_step(got_h, got_c, args):
    got_h, got_c = np.asarray(got_h), np.asarray(got_c)
    for msg, kw in _CH05_STEP_MISTAKES:
        h, c = _ch05_step_variant(*args, **kw)
        if h.shape == got_h.shape and c.shape == got_c.shape and \
                np.allclose(got_h, h, rtol=1e-6, atol=1e-9) and \
                np.allclose(got_c, c, rtol=1e-6, atol=1e-9):
            return msg
    h, c = _ch05_step_variant(*args)
    if got_h.shape == c.shape and np.allclose(got_h, c) and np.allclose(got_c, h):
        return "you returned (next_c, next_h); return next_h first, then next_c"
    if got_c.shape == c.shape and np.allclose(got_c, c, rtol=1e-6, atol=1e-9):
        return ("next_c is right, so the input and forget gates are fine: look at the output "
                "gate and h_t = o * tanh(c_t)")
    return ("next_c is wrong already: look at the input gate, the forget gate (their peepholes "
            "read c_{t-1}) and c_t = f * c_{t-1} + i * g")


@register("lstm_step_forward_peephole")
def _check_lstm_step_forward_peephole(student_fn, rng):
    """``student_fn(x, prev_h, prev_c, Wx, Wh, b, p_i, p_f, p_o)`` -> (next_h, next_c, ...)."""
    from .lstm import lstm_step_forward as _ref
    n = 0
    for N, D, H in _CH05_SHAPES:
        args = _ch05_case(rng, N, D, H)
        ref_h, ref_c, _ = _ref(*args[:6], peepholes=args[6:])
        result = student_fn(*(np.copy(a) for a in args))
        n += 1
        if result is None:
            return ["your function returned None (did you forget to return next_h, next_c?)"], n
        if isinstance(result, np.ndarray) or not isinstance(result, (tuple, list)) or len(result) < 2:
            return ["return a tuple whose first two entries are next_h and next_c "
                    f"(got {type(result).__name__})"], n
        got_h, got_c = result[0], result[1]
        errs = compare("next_h", got_h, ref_h, 1e-7) + compare("next_c", got_c, ref_c, 1e-7)
        if errs:
            where = f"  [test with (N, D, H) = {(N, D, H)}]"
            errs = [e + where for e in errs]
            if not any("shape" in e or "None" in e or "NaN" in e for e in errs):
                errs.append("diagnosis: " + _ch05_diagnose_step(got_h, got_c, args))
            return errs, n
    # the peepholes must act elementwise, one weight per cell: changing p_o[0]
    # may only change unit 0 of next_h
    args = list(_ch05_case(rng, 3, 2, 4))
    h1 = np.asarray(student_fn(*(np.copy(a) for a in args))[0])
    args[8] = args[8].copy()
    args[8][0] += 2.0
    h2 = np.asarray(student_fn(*(np.copy(a) for a in args))[0])
    n += 1
    if not np.allclose(h1[:, 1:], h2[:, 1:]):
        return ["changing p_o[0] changed other units than unit 0 of next_h: peepholes are "
                "diagonal (elementwise), each gate unit sees only its own cell"], n
    # inputs must not be modified in place
    args = _ch05_case(rng, 2, 3, 4)
    copies = [np.copy(a) for a in args]
    student_fn(*args)
    n += 1
    for name, a, c0 in zip(("x", "prev_h", "prev_c", "Wx", "Wh", "b", "p_i", "p_f", "p_o"),
                           args, copies):
        if not np.array_equal(a, c0):
            return [f"your function modified its input {name} in place; compute new arrays "
                    "instead"], n
    return [], n


def _ch05_peep_grads_variant(dnext_h, dnext_c, cache, *, dc_peep=True, o_state="next_c",
                             if_state="prev_c", o_sigmoid_grad=True):
    """(dp_i, dp_f, dp_o) with a chosen *mistake* (diagnosis only)."""
    prev_c, next_c = cache["prev_c"], cache["next_c"]
    i, f, o, g, tanh_c = cache["i"], cache["f"], cache["o"], cache["g"], cache["tanh_c"]
    p_o = cache["peepholes"][2]
    do = dnext_h * tanh_c
    da_o = do * o * (1 - o) if o_sigmoid_grad else do
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    if dc_peep:
        dc = dc + da_o * p_o
    da_i = dc * g * i * (1 - i)
    da_f = dc * prev_c * f * (1 - f)
    s_if = prev_c if if_state == "prev_c" else next_c
    s_o = next_c if o_state == "next_c" else prev_c
    return (da_i * s_if).sum(0), (da_f * s_if).sum(0), (da_o * s_o).sum(0)


_CH05_GRAD_MISTAKES = [
    ("dp_i and dp_f miss the extra path into dc: because the output gate peeks at c_t, "
     "dc_t also receives da_o * p_o; add it before computing da_i and da_f",
     dict(dc_peep=False)),
    ("dp_o uses c_{t-1}; the output gate peeked at the NEW cell state, so dp_o = "
     "sum over the batch of da_o * c_t", dict(o_state="prev_c")),
    ("dp_o uses do instead of da_o: multiply by the sigmoid's derivative o * (1 - o) first",
     dict(o_sigmoid_grad=False)),
    ("dp_i and dp_f use c_t; the input and forget gates peeked at the OLD cell state c_{t-1}",
     dict(if_state="next_c")),
    ("dp_o is missing the sigmoid derivative AND dc misses the peephole path",
     dict(o_sigmoid_grad=False, dc_peep=False)),
]


def _ch05_grad_case(rng, N, D, H):
    from .lstm import lstm_step_forward as _ref
    args = _ch05_case(rng, N, D, H)
    _, _, cache = _ref(*args[:6], peepholes=args[6:])
    dnext_h = rng.standard_normal((N, H))
    dnext_c = rng.standard_normal((N, H))
    return args, cache, dnext_h, dnext_c


def _ch05_copy_cache(cache):
    out = {}
    for k, v in cache.items():
        if isinstance(v, np.ndarray):
            out[k] = v.copy()
        elif isinstance(v, tuple):
            out[k] = tuple(np.copy(a) for a in v)
        else:
            out[k] = v
    return out


@register("peephole_grads")
def _check_peephole_grads(student_fn, rng):
    """``student_fn(dnext_h, dnext_c, cache)`` -> (dp_i, dp_f, dp_o), cache from
    ``lstm_step_forward(..., peepholes=(p_i, p_f, p_o))``."""
    from .lstm import lstm_step_backward as _ref_b, lstm_step_forward as _ref_f
    from .gradcheck import eval_numerical_gradient
    n = 0
    names = ("dp_i", "dp_f", "dp_o")
    for N, D, H in _CH05_SHAPES:
        args, cache, dnext_h, dnext_c = _ch05_grad_case(rng, N, D, H)
        ref = _ref_b(dnext_h, dnext_c, cache)[6]
        result = student_fn(dnext_h.copy(), dnext_c.copy(), _ch05_copy_cache(cache))
        n += 1
        if result is None:
            return ["your function returned None (did you forget to return dp_i, dp_f, dp_o?)"], n
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            return [f"return the tuple (dp_i, dp_f, dp_o) (got {type(result).__name__})"], n
        where = f"  [test with (N, D, H) = {(N, D, H)}]"
        errs = []
        for name, got, exp in zip(names, result, ref):
            if got is not None and np.shape(got) == (N, H) and N != H:
                errs.append(f"{name}: shape {(N, H)}, expected {(H,)}: p is shared by all "
                            "sequences of the batch, so sum its gradient over the batch axis 0")
            else:
                errs += compare(name, got, exp, 1e-7)
        if errs:
            errs = [e + where for e in errs]
            if not any("shape" in e or "None" in e or "NaN" in e for e in errs):
                for msg, kw in _CH05_GRAD_MISTAKES:
                    var = _ch05_peep_grads_variant(dnext_h, dnext_c, cache, **kw)
                    if all(np.allclose(np.asarray(g_), v, rtol=1e-6, atol=1e-9)
                           for g_, v in zip(result, var)):
                        errs.append("diagnosis: " + msg)
                        break
                else:
                    ok = [nm for nm, g_, e in zip(names, result, ref)
                          if np.allclose(np.asarray(g_), e, rtol=1e-6, atol=1e-9)]
                    if ok:
                        errs.append(f"diagnosis: {', '.join(ok)} {'is' if len(ok) == 1 else 'are'} "
                                    "right; compare how you got the others")
            return errs, n
    # and against numerical gradients of L = sum(next_h * dnext_h) + sum(next_c * dnext_c)
    args, cache, dnext_h, dnext_c = _ch05_grad_case(rng, 3, 2, 4)
    args = [np.array(a, dtype=np.float64) for a in args]
    got = student_fn(dnext_h.copy(), dnext_c.copy(), _ch05_copy_cache(cache))

    def loss():
        h, c, _ = _ref_f(*args[:6], peepholes=args[6:])
        return np.sum(h * dnext_h) + np.sum(c * dnext_c)
    for k, name in enumerate(names):
        num = eval_numerical_gradient(loss, args[6 + k])
        n += 1
        errs = compare(name + " (vs the numerical gradient)", got[k], num, 1e-6)
        if errs:
            return errs, n
    return [], n


@register("peephole_output_gate")
def _check_peephole_output_gate(student_fn, rng):
    """``student_fn(a_o, p_o, c)`` -> (o, do_dc): o = sigmoid(a_o + p_o * c) and its
    derivative with respect to the cell state c, elementwise."""
    cases = [(np.array([[-2.0]]), np.array([5.0]), np.array([[3.0]]), "a_o = -2, p_o = 5, c = 3"),
             (np.array([[-2.0, 0.5]]), np.array([5.0, 5.0]), np.array([[-3.0, 0.0]]),
              "a_o = [-2, 0.5], p_o = 5, c = [-3, 0]"),
             (np.array([[0.0, 1.0, -1.0]]), np.array([400.0, 1.0, -300.0]),
              np.array([[2.0, 1.0, 3.0]]), "huge p_o * c (+800 and -900)")]
    for N, H in ((2, 3), (4, 2)):
        cases.append((rng.standard_normal((N, H)), rng.standard_normal(H) * 3,
                      rng.standard_normal((N, H)) * 2, f"a random test with N={N}, H={H}"))
    n = 0
    for a_o, p_o, c, which in cases:
        z = a_o + p_o * c
        o = _ch05_sigmoid(z)
        e = np.exp(-np.abs(z))
        do_dc = e / (1.0 + e) ** 2 * p_o
        with np.errstate(all="ignore"):
            result = student_fn(a_o.copy(), p_o.copy(), c.copy())
        n += 1
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return [f"return the tuple (o, do_dc) (got {type(result).__name__})"], n
        got_o, got_d = result
        errs = compare("o", got_o, o, 1e-9)
        if errs:
            msg = [f"{errs[0]}  [{which}]"]
            if got_o is not None and np.shape(got_o) == o.shape and \
                    np.allclose(got_o, _ch05_sigmoid(a_o) + p_o * c):
                msg.append("diagnosis: the peephole term goes inside the sigmoid: "
                           "o = sigmoid(a_o + p_o * c)")
            elif got_o is not None and np.shape(got_o) == o.shape and \
                    np.allclose(got_o, _ch05_sigmoid(a_o)):
                msg.append("diagnosis: your o ignores the peephole p_o * c")
            return msg, n
        if got_d is None:
            return ["do_dc: your function returned None"], n
        got_d = np.asarray(got_d, dtype=float)
        if got_d.shape != do_dc.shape:
            return [f"do_dc: shape {got_d.shape}, expected {do_dc.shape}  [{which}]"], n
        if not np.all(np.isfinite(got_d)):
            return [f"do_dc: contains NaN or inf  [{which}]: compute the sigmoid's "
                    "derivative as o * (1 - o) from a stable sigmoid"], n
        bad = np.abs(got_d - do_dc) > 1e-12 + 1e-6 * np.abs(do_dc)
        if np.any(bad):
            j = np.unravel_index(int(np.argmax(bad)), bad.shape)
            msg = (f"do_dc: entry {tuple(int(k) for k in j)} is {got_d[j]:.6g}, expected "
                   f"{do_dc[j]:.6g}  [{which}]")
            if np.allclose(got_d, o * (1 - o)):
                msg += ("; diagnosis: you forgot the chain rule's inner factor: "
                        "d(a_o + p_o * c)/dc = p_o")
            elif np.allclose(got_d, o * p_o):
                msg += "; diagnosis: sigmoid'(z) = o * (1 - o), not o"
            elif np.allclose(got_d, o * (1 - o) * c):
                msg += ("; diagnosis: that is the derivative with respect to p_o (times c); "
                        "the derivative with respect to c has the factor p_o")
            return [msg], n
    return [], n


# --- chapter 06: LSTM backpropagation through time ---
# Checks: lstm_step_backward, lstm_backward, gradcheck_finds_swapped_gates,
# gradient_streams. The step check compares the 4H columns of dWx, dWh, db gate by
# gate (i, f, o, g) and names the gate (and the line of the derivation) that is wrong;
# it recognises typical mistakes (forgotten dnext_c, tanh(c_{t-1}) instead of
# tanh(c_t), a swapped gate order in da, ...). Helpers are prefixed _ch06_.
import itertools as _ch06_itertools

_CH06_GATES = ("i", "f", "o", "g")
_CH06_STEP_OUT = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")
_CH06_GATE_HINTS = {
    "i": "check di = dc * g and da_i = di * i * (1 - i)",
    "f": "check df = dc * prev_c (the OLD cell state) and da_f = df * f * (1 - f)",
    "o": "check do = dnext_h * tanh_c (tanh of the NEW cell state c_t) and "
         "da_o = do * o * (1 - o)",
    "g": "check dg = dc * i and da_g = dg * (1 - g**2)",
}


def _ch06_normwise(a, b):
    """||a - b|| / (||a|| + ||b||), 0 for two zeros."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


def _ch06_close(a, b, tol=1e-7):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and _ch06_normwise(a, b) <= tol


def _ch06_case(rng, N, D, H, scale=0.6):
    x = rng.standard_normal((N, D))
    prev_h = np.tanh(rng.standard_normal((N, H)))
    prev_c = rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, 4 * H)) * scale
    Wh = rng.standard_normal((H, 4 * H)) * scale
    b = rng.standard_normal(4 * H) * scale
    return x, prev_h, prev_c, Wx, Wh, b


def _ch06_copy_cache(cache):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in cache.items()}


def _ch06_unpack(result, names):
    """The student's tuple, or a problem message."""
    if result is None:
        return None, [f"your function returned None; return the tuple ({', '.join(names)})"]
    if isinstance(result, np.ndarray) or not isinstance(result, (tuple, list)):
        return None, [f"return a tuple ({', '.join(names)}), got {type(result).__name__}"]
    if len(result) < len(names):
        return None, [f"your function returned {len(result)} values; expected {len(names)}: "
                      f"({', '.join(names)})"]
    return tuple(result[:len(names)]), []


def _ch06_step_variant(dnext_h, dnext_c, cache, bug=None, order=_CH06_GATES):
    """The LSTM step backward with one typical mistake switched on (diagnosis only).

    ``order`` is the order in which the four gate blocks are concatenated into da.
    """
    x, prev_h, prev_c = cache["x"], cache["prev_h"], cache["prev_c"]
    Wx, Wh = cache["Wx"], cache["Wh"]
    i, f, o, g, next_c, tanh_c = (cache[k] for k in ("i", "f", "o", "g", "next_c", "tanh_c"))
    tc = np.tanh(prev_c) if bug == "tanh_prev_c" else tanh_c
    do = dnext_h * tc
    dc_h = dnext_h * o * (1 - tc ** 2)
    if bug == "no_dnext_c":
        dc = dc_h
    elif bug == "no_h_path":
        dc = dnext_c.copy()
    else:
        dc = dnext_c + dc_h
    d = {
        "i": dc * g * i * (1 - i),
        "f": dc * (next_c if bug == "df_next_c" else prev_c) * f * (1 - f),
        "o": do * o * (1 - o),
        "g": dc * i * ((1 - g) if bug == "tanh_prime_g" else (1 - g ** 2)),
    }
    if bug == "sigmoid_prime_raw":
        d["i"], d["f"], d["o"] = dc * g * (1 - i), dc * prev_c * (1 - f), do * (1 - o)
    dprev_c = dc if bug == "dprev_c_no_f" else dc * f
    da = np.concatenate([d[k] for k in order], axis=1)
    db = da[0] if bug == "db_first_row" else da.sum(axis=0)
    return (da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, db)


_CH06_STEP_BUGS = {
    "no_dnext_c": "you forgot the gradient dnext_c that arrives from the future (step t+1): "
                  "dc = dnext_c + dnext_h * o * (1 - tanh_c**2)",
    "no_h_path": "dc is missing the part that flows through h_t = o * tanh(c_t): "
                 "dc = dnext_c + dnext_h * o * (1 - tanh_c**2)",
    "tanh_prev_c": "you used tanh(prev_c) where tanh(c_t) belongs: h_t = o * tanh(c_t) uses "
                   "the NEW cell state (it is in the cache as tanh_c)",
    "df_next_c": "df must use the OLD cell state: c_t = f * c_{t-1} + i * g, so "
                 "df = dc * prev_c, not dc * next_c",
    "tanh_prime_g": "tanh'(a_g) = 1 - g**2, not 1 - g",
    "sigmoid_prime_raw": "sigma'(a) = sigma(a) * (1 - sigma(a)): for the gate i it is "
                         "i * (1 - i), not (1 - i)",
    "dprev_c_no_f": "dprev_c = dc * f: the cell state is multiplied by f on its way to c_t, so "
                    "its gradient is too (dc_t/dc_{t-1} = f)",
    "db_first_row": "db must be summed over the batch axis: db = da.sum(axis=0)",
}


def _ch06_diagnose_step(got, dnext_h, dnext_c, cache):
    """A sentence naming the mistake that reproduces the student's outputs, or None."""
    def matches(outs):
        return all(_ch06_close(g_, e_, 1e-6) for g_, e_ in zip(got, outs)
                   if g_ is not None and np.shape(g_) == np.shape(e_))
    for bug, msg in _CH06_STEP_BUGS.items():
        if matches(_ch06_step_variant(dnext_h, dnext_c, cache, bug)):
            return msg
    for perm in _ch06_itertools.permutations(_CH06_GATES):
        if perm != _CH06_GATES and matches(_ch06_step_variant(dnext_h, dnext_c, cache, order=perm)):
            return (f"your da has its four gate blocks in the order {', '.join(perm)}; the "
                    "course concatenates da = [da_i, da_f, da_o, da_g] (the order of the "
                    "columns of Wx, Wh and b)")
    return None


def _ch06_gate_errors(got, expected, H):
    """Per gate: normwise relative error over its column blocks of dWx, dWh and db."""
    errs = {}
    for k, gate in enumerate(_CH06_GATES):
        cols = slice(k * H, (k + 1) * H)
        g_ = np.concatenate([np.ravel(np.asarray(got[j])[..., cols]) for j in (3, 4, 5)])
        e_ = np.concatenate([np.ravel(np.asarray(expected[j])[..., cols]) for j in (3, 4, 5)])
        errs[gate] = _ch06_normwise(g_, e_)
    return errs


def _ch06_gate_feedback(got, expected, H):
    """Gate-specific sentences from the column blocks of dWx, dWh, db."""
    shapes_ok = all(np.shape(got[j]) == np.shape(expected[j]) for j in (3, 4, 5))
    if not shapes_ok:
        return []
    if all(_ch06_close(got[j], expected[j], 1e-6) for j in (3, 4)):
        return []   # dWx and dWh are right: the gates are fine, the bug is elsewhere
    errs = _ch06_gate_errors(got, expected, H)
    wrong = [g for g in _CH06_GATES if errs[g] > 1e-6]
    if not wrong:
        return []
    out = []
    if set(wrong) == {"i", "f", "g"}:
        out.append("gates i, f and g are wrong but o is right: these three receive their error "
                   "through the cell state, so dc is wrong — dc = dnext_c + dnext_h * o * "
                   "(1 - tanh_c**2)")
    for gate in wrong:
        cols = ("0:H", "H:2H", "2H:3H", "3H:4H")[_CH06_GATES.index(gate)]
        out.append(f"the {gate} gate's gradient is wrong (relative error {errs[gate]:.1e} in "
                   f"its columns {cols} of dWx, dWh and db) — {_CH06_GATE_HINTS[gate]}")
    return out


@register("lstm_step_backward")
def _check_lstm_step_backward(student_fn, rng):
    """lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)."""
    from .gradcheck import eval_numerical_gradient_array
    from .lstm import lstm_step_backward as _ref_bwd
    from .lstm import lstm_step_forward as _ref_fwd

    n = 0
    for N, D, H in [(3, 4, 5), (2, 3, 2), (1, 2, 3), (4, 5, 4)]:
        args = _ch06_case(rng, N, D, H)
        _, _, cache = _ref_fwd(*args)
        dnext_h = rng.standard_normal((N, H))
        dnext_c = rng.standard_normal((N, H))
        expected = _ref_bwd(dnext_h, dnext_c, cache)
        got, problems = _ch06_unpack(
            student_fn(dnext_h.copy(), dnext_c.copy(), _ch06_copy_cache(cache)), _CH06_STEP_OUT)
        n += 1
        if problems:
            return problems, n
        where = f"(N, D, H) = {(N, D, H)}"
        for name, g_, e_ in zip(_CH06_STEP_OUT, got, expected):
            problems += compare(f"{name} {where}", g_, e_, 1e-7)
        if problems:
            problems += _ch06_gate_feedback(got, expected, H)
            hint = _ch06_diagnose_step(got, dnext_h, dnext_c, cache)
            if hint:
                problems.append("diagnosis: " + hint)
            return problems, n

    # Independent of the reference: centred differences of
    # L = sum(next_h * dnext_h) + sum(next_c * dnext_c).
    N, D, H = 2, 3, 4
    x, prev_h, prev_c, Wx, Wh, b = _ch06_case(rng, N, D, H)
    _, _, cache = _ref_fwd(x, prev_h, prev_c, Wx, Wh, b)
    dnext_h, dnext_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    got, problems = _ch06_unpack(
        student_fn(dnext_h.copy(), dnext_c.copy(), _ch06_copy_cache(cache)), _CH06_STEP_OUT)
    if problems:
        return problems, n

    def loss_parts():
        h_, c_, _ = _ref_fwd(x, prev_h, prev_c, Wx, Wh, b)
        return np.concatenate([h_, c_], axis=1)
    upstream = np.concatenate([dnext_h, dnext_c], axis=1)
    for name, arr, g_ in zip(_CH06_STEP_OUT, (x, prev_h, prev_c, Wx, Wh, b), got):
        num = eval_numerical_gradient_array(loss_parts, arr, upstream)
        n += 1
        if np.shape(g_) != num.shape:
            problems.append(f"{name}: shape {np.shape(g_)}, expected {num.shape} "
                            "(numerical gradient check)")
        elif _ch06_normwise(g_, num) > 1e-7:
            problems.append(f"{name}: differs from the numerical gradient by relative error "
                            f"{_ch06_normwise(g_, num):.1e}")
    return problems, n


def _ch06_forward_steps(x, h0, Wx, Wh, b):
    """Unrolled forward pass: h (N, T, H) and the list of T step caches."""
    from .lstm import lstm_step_forward as _ref_fwd
    N, T, _ = x.shape
    H = Wh.shape[0]
    h, c = h0, np.zeros((N, H))
    hs, caches = [], []
    for t in range(T):
        h, c, cache = _ref_fwd(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def _ch06_backward_variant(dh, caches, mode):
    """BPTT over step caches with one typical bug switched on (diagnosis only)."""
    from .lstm import lstm_step_backward as _ref_bwd
    N, T, H = dh.shape
    D = caches[0]["x"].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = (np.zeros_like(caches[0]["Wx"]), np.zeros_like(caches[0]["Wh"]),
                    np.zeros(4 * H))
    dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
    order = range(T) if mode == "forward_in_time" else reversed(range(T))
    for t in order:
        up_h = {"no_dh_t": dprev_h, "no_dprev_h": dh[:, t]}.get(mode, dh[:, t] + dprev_h)
        up_c = np.zeros((N, H)) if mode == "no_dc" else dprev_c
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = _ref_bwd(up_h, up_c, caches[t])
        if mode == "overwrite":
            dWx, dWh, db = dWx_t, dWh_t, db_t
        else:
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


_CH06_BACKWARD_HINTS = {
    "overwrite": "equals the gradient of ONE time step: Wx, Wh and b are shared by all T steps, "
                 "so their gradients are SUMMED over t (+=, initialised once before the loop)",
    "no_dc": "the cell-state gradient is not carried back in time: pass the dprev_c of step t "
             "as the dnext_c of step t-1 (it starts as zeros at the last step)",
    "no_dh_t": "h_t receives gradient from the loss at step t as well: add dh[:, t] to the "
               "dprev_h coming from step t+1",
    "no_dprev_h": "h_t also feeds step t+1: add the dprev_h returned by step t+1 to dh[:, t]",
    "forward_in_time": "the loop must run backwards in time, t = T-1, ..., 0: step t needs "
                       "what step t+1 sends back",
}


@register("lstm_backward")
def _check_lstm_backward(student_fn, rng):
    """lstm_backward(dh, caches) -> (dx, dh0, dWx, dWh, db), caches = list of step caches."""
    from .gradcheck import eval_numerical_gradient_array
    from .lstm import lstm_backward as _ref_bwd
    from .lstm import lstm_forward as _ref_fwd

    names = ("dx", "dh0", "dWx", "dWh", "db")
    n = 0
    for N, T, D, H in [(2, 4, 3, 5), (3, 1, 4, 2), (1, 6, 2, 3), (2, 5, 5, 2)]:
        x = rng.standard_normal((N, T, D))
        h0 = np.tanh(rng.standard_normal((N, H)))
        Wx = rng.standard_normal((D, 4 * H)) * 0.6
        Wh = rng.standard_normal((H, 4 * H)) * 0.6
        b = rng.standard_normal(4 * H) * 0.6
        _, caches = _ch06_forward_steps(x, h0, Wx, Wh, b)
        _, ref_cache = _ref_fwd(x, h0, Wx, Wh, b)
        dh = rng.standard_normal((N, T, H))
        expected = _ref_bwd(dh, ref_cache)
        got, problems = _ch06_unpack(
            student_fn(dh.copy(), [_ch06_copy_cache(c) for c in caches]), names)
        n += 1
        if problems:
            return problems, n
        where = f"(N, T, D, H) = {(N, T, D, H)}"
        variants = None
        for k, (name, g_, e_) in enumerate(zip(names, got, expected)):
            for msg in compare(f"{name} {where}", g_, e_, 1e-7):
                if variants is None:
                    variants = {m: _ch06_backward_variant(dh, caches, m)
                                for m in _CH06_BACKWARD_HINTS}
                hint = next((" — " + _CH06_BACKWARD_HINTS[m] for m, outs in variants.items()
                             if _ch06_close(g_, outs[k], 1e-6)), "")
                problems.append(msg + hint)
        if problems:
            return problems, n

    # Independent of the reference: centred differences through the whole sequence.
    N, T, D, H = 2, 3, 2, 3
    x, h0 = rng.standard_normal((N, T, D)), np.tanh(rng.standard_normal((N, H)))
    Wx, Wh = rng.standard_normal((D, 4 * H)) * 0.6, rng.standard_normal((H, 4 * H)) * 0.6
    b = rng.standard_normal(4 * H) * 0.6
    _, caches = _ch06_forward_steps(x, h0, Wx, Wh, b)
    dh = rng.standard_normal((N, T, H))
    got, problems = _ch06_unpack(student_fn(dh.copy(), caches), names)
    if problems:
        return problems, n
    for name, arr, g_ in zip(names, (x, h0, Wx, Wh, b), got):
        num = eval_numerical_gradient_array(lambda: _ref_fwd(x, h0, Wx, Wh, b)[0], arr, dh)
        n += 1
        if np.shape(g_) != num.shape:
            problems.append(f"{name}: shape {np.shape(g_)}, expected {num.shape} "
                            "(numerical gradient check)")
        elif _ch06_normwise(g_, num) > 1e-7:
            problems.append(f"{name}: differs from the numerical gradient by relative error "
                            f"{_ch06_normwise(g_, num):.1e}")
    return problems, n


# Backward passes handed to the student's gradient-check routine; the truth about
# each one (which outputs and gates are wrong) is measured against the package.
_CH06_GRADCHECK_CASES = (
    ("a correct step backward", None, _CH06_GATES),
    ("a step backward with the o and g blocks of da swapped", None, ("i", "f", "g", "o")),
    ("a step backward that forgets dnext_c", "no_dnext_c", _CH06_GATES),
    ("a step backward with df = dc * next_c", "df_next_c", _CH06_GATES),
    ("a step backward with dprev_c = dc", "dprev_c_no_f", _CH06_GATES),
    ("a step backward with the i and f blocks of da swapped", None, ("f", "i", "o", "g")),
)


def _ch06_as_names(value, allowed, what):
    """A set of names from the student's list/tuple/set, or a problem message."""
    if isinstance(value, str) or value is None:
        return None, (f"{what}: return a list of names such as {list(allowed[:2])}, "
                      f"got {value!r}")
    try:
        names = {str(v) for v in value}
    except TypeError:
        return None, f"{what}: return a list of names, got {type(value).__name__}"
    unknown = names - set(allowed)
    if unknown:
        return None, f"{what}: unknown names {sorted(unknown)}; use names from {list(allowed)}"
    return names, None


@register("gradcheck_finds_swapped_gates")
def _check_gradcheck_finds_swapped_gates(student_fn, rng):
    """find_wrong_gradient(step_backward) -> (wrong_outputs, wrong_gates)."""
    from .lstm import lstm_step_backward as _ref_bwd
    from .lstm import lstm_step_forward as _ref_fwd

    n = 0
    probe = _ch06_case(rng, 3, 4, 5)
    _, _, cache = _ref_fwd(*probe)
    dnh, dnc = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    ref = _ref_bwd(dnh, dnc, cache)
    for label, bug, order in _CH06_GRADCHECK_CASES:
        if bug is None and order == _CH06_GATES:
            fn = _ref_bwd
        else:
            def fn(dnext_h, dnext_c, cache, _bug=bug, _order=order):
                return _ch06_step_variant(dnext_h, dnext_c, cache, _bug, _order)
        # the truth, measured on a probe case against the package
        outs = fn(dnh, dnc, cache)
        want_out = {nm for nm, g_, e_ in zip(_CH06_STEP_OUT, outs, ref)
                    if _ch06_normwise(g_, e_) > 1e-6}
        errs = _ch06_gate_errors(outs, ref, 5)
        want_gates = {g for g in _CH06_GATES if errs[g] > 1e-6}
        result = student_fn(fn)
        n += 1
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return [f"return a pair (wrong_outputs, wrong_gates), got {type(result).__name__}"], n
        got_out, msg = _ch06_as_names(result[0], _CH06_STEP_OUT, "wrong_outputs")
        if msg:
            return [msg], n
        got_gates, msg = _ch06_as_names(result[1], _CH06_GATES, "wrong_gates")
        if msg:
            return [msg], n
        problems = []
        if got_out != want_out:
            missed, extra = sorted(want_out - got_out), sorted(got_out - want_out)
            problems.append(
                f"for {label} your routine reported the outputs {sorted(got_out)}"
                + (f"; it missed {missed}" if missed else "")
                + (f"; {extra} are actually right (is your tolerance too tight, or do you "
                   "compare with the wrong numerical gradient?)" if extra else ""))
        if got_gates != want_gates:
            problems.append(
                f"for {label} your routine reported the gates {sorted(got_gates)}, but the "
                f"gradient check should flag {sorted(want_gates)} (compare the column blocks "
                "0:H, H:2H, 2H:3H, 3H:4H of dWx, dWh and db, in the order i, f, o, g)")
        if problems:
            return problems, n
    return [], n


def _ch06_streams(caches, dh_last, mode="ok"):
    """Norms of the two error streams (reference and diagnosis variants)."""
    from .lstm import lstm_step_backward as _ref_bwd
    T = len(caches)
    nh, nc = np.empty(T), np.empty(T)
    dh = np.array(dh_last, dtype=np.float64)
    last = caches[-1]
    dc = dh * last["o"] * (1 - last["tanh_c"] ** 2)
    for t in range(T - 1, -1, -1):
        nh[t] = np.linalg.norm(dh)
        nc[t] = np.linalg.norm(dc)
        carry_c = dc if mode == "h_with_c" else np.zeros_like(dh)
        dh = _ref_bwd(dh, carry_c, caches[t])[1]
        dc = dc * caches[t - 1 if mode == "f_shift" and t > 0 else t]["f"]
    return nh, nc


@register("gradient_streams")
def _check_gradient_streams(student_fn, rng):
    """gradient_streams(caches, dh_last) -> (norms_h, norms_c), each (T,)."""
    from .lstm import lstm_step_forward as _ref_fwd
    n = 0
    for N, T, D, H, bf in [(1, 12, 3, 4, 1.0), (2, 7, 2, 3, 0.0), (1, 20, 4, 5, 3.0)]:
        x = rng.standard_normal((N, T, D))
        Wx = rng.standard_normal((D, 4 * H)) * 0.3
        Wh = rng.standard_normal((H, 4 * H)) * 0.3
        b = np.zeros(4 * H)
        b[H:2 * H] = bf
        h, c = np.zeros((N, H)), np.zeros((N, H))
        caches = []
        for t in range(T):
            h, c, cache = _ref_fwd(x[:, t], h, c, Wx, Wh, b)
            caches.append(cache)
        dh_last = rng.standard_normal((N, H))
        want_h, want_c = _ch06_streams(caches, dh_last)
        got, problems = _ch06_unpack(
            student_fn([_ch06_copy_cache(c) for c in caches], dh_last.copy()),
            ("norms_h", "norms_c"))
        n += 1
        if problems:
            return problems, n
        where = f"(N, T, D, H) = {(N, T, D, H)}, forget bias {bf}"
        for name, g_, e_, k in (("norms_h", got[0], want_h, 0), ("norms_c", got[1], want_c, 1)):
            for msg in compare(f"{name} {where}", g_, e_, 1e-7):
                hint = ""
                if k == 0 and _ch06_close(g_, _ch06_streams(caches, dh_last, "h_with_c")[0]):
                    hint = (" — your h stream still receives the error carried by the cell: "
                            "cut it by passing dnext_c = 0 at every step")
                elif k == 1 and _ch06_close(g_, _ch06_streams(caches, dh_last, "f_shift")[1]):
                    hint = (" — off by one step: c_t = f_t * c_{t-1} + ..., so going from "
                            "c_t back to c_{t-1} multiplies by the forget gate OF STEP t")
                elif np.shape(g_) == e_.shape and not np.isclose(float(np.asarray(g_)[-1]), e_[-1]):
                    hint = (" — already wrong at the last step t = T-1: there norms_h is "
                            "||dh_last|| and norms_c is ||dh_last * o * (1 - tanh_c**2)||")
                problems.append(msg + hint)
        if problems:
            return problems, n
    return [], n


# --- chapter 03: the constant error carousel ---
def _ch03_call(fn, *args):
    """Call a student's function without numpy warnings (NaN/inf are reported by us)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn(*args)


def _ch03_same(got, candidate, tol=1e-9):
    """True when ``got`` equals ``candidate`` (shape and values, relative tol)."""
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    candidate = np.asarray(candidate, dtype=np.float64)
    if got.shape != candidate.shape or not np.all(np.isfinite(got)):
        return False
    scale = np.maximum(1e-12, np.abs(got) + np.abs(candidate))
    return bool(np.all(np.abs(got - candidate) / scale <= tol))


def _ch03_as_scalar(value):
    """A float from a number or a one-element array; otherwise return ``value`` unchanged."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return value
    return float(arr.reshape(())) if arr.size == 1 else value


def _ch03_linear_backward_variants(dy, w, y0, y):
    """Typical wrong answers for the linear unit's backward pass (for diagnoses)."""
    T = y.shape[0]
    y_prev = np.concatenate([[y0], y[:-1]])

    def deltas(factor):
        d, future = np.empty(T), 0.0
        for t in range(T - 1, -1, -1):
            d[t] = dy[t] + future
            future = factor * d[t]
        return d

    right, no_w = deltas(w), deltas(1.0)
    return {
        "right": right,
        "no_w": no_w,                       # forgot to multiply by w
        "w_early": w * right,               # multiplied the whole delta_t by w
        "dw_y_t": float(np.dot(right, y)),  # paired delta_t with y_t, not y_{t-1}
        "dw_no_w_deltas": float(np.dot(no_w, y_prev)),
        "dy0_delta1": float(right[0]),      # forgot the last multiplication by w
    }


@register("cec_backward")
def _check_cec_backward(student_fn, rng):
    """``student_fn(dy, cache) -> (dinputs, dw, dy0)`` for y_t = w y_{t-1} + u_t,
    with ``cache = (w, y0, y)`` from ``cec.linear_unit_forward``."""
    from .cec import linear_unit_backward, linear_unit_forward
    from .gradcheck import eval_numerical_gradient

    cases = [(0.8, 5, "a decaying unit"), (1.0, 6, "the CEC"),
             (1.25, 4, "a growing unit"), (0.5, 1, "a single step")]
    for k in range(3):
        cases.append((float(rng.uniform(0.3, 1.6)), int(rng.integers(2, 12)), f"random test {k + 1}"))
    n = 0
    for w, T, which in cases:
        n += 1
        inputs = rng.standard_normal(T)
        y0 = float(rng.standard_normal())
        dy = rng.standard_normal(T)
        y, cache = linear_unit_forward(w, inputs, y0)
        dinputs, dw, dy0 = linear_unit_backward(dy, cache)
        where = f"  [{which}: w = {w:.3g}, T = {T}]"
        result = _ch03_call(student_fn, dy.copy(), (w, y0, y.copy()))
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            got_type = "None" if result is None else type(result).__name__
            return [f"return the tuple (dinputs, dw, dy0); your function returned {got_type}"], n
        g_in, g_w, g_y0 = result[0], _ch03_as_scalar(result[1]), _ch03_as_scalar(result[2])
        var = _ch03_linear_backward_variants(dy, w, y0, y)
        problems = []
        errs = compare("dinputs", g_in, dinputs, 1e-9)
        if errs:
            problems.append(errs[0] + where)
            if w != 1.0 and _ch03_same(g_in, var["no_w"]):
                problems.append("diagnosis: your errors are what w = 1 would give: when the error "
                                "goes back one step (from y_{t+1} to y_t) it must be multiplied by "
                                "dy_{t+1}/dy_t = w")
            elif w != 1.0 and _ch03_same(g_in, var["w_early"]):
                problems.append("diagnosis: every entry is w times too large/small: the error "
                                "reaching y_t is dy_t + w * delta_{t+1}; only the part coming "
                                "from the future is multiplied by w, and delta_T = dy_T")
            elif _ch03_same(g_in, dy):
                problems.append("diagnosis: dinputs equals dy: you forgot the error that flows "
                                "back from later steps (delta_t = dy_t + w * delta_{t+1})")
            elif _ch03_same(g_in, dinputs[::-1]):
                problems.append("diagnosis: your dinputs are in reversed time order: loop "
                                "backwards over t, but store delta_t at index t")
            return problems, n
        errs = compare("dw", g_w, dw, 1e-9)
        if errs:
            problems.append(errs[0] + where)
            if _ch03_same(g_w, var["dw_y_t"]):
                problems.append("diagnosis: off by one in time: w multiplies y_{t-1} in "
                                "y_t = w y_{t-1} + u_t, so dw = sum_t delta_t * y_{t-1} "
                                "(with y_0 for t = 1), not delta_t * y_t")
            elif w != 1.0 and _ch03_same(g_w, var["dw_no_w_deltas"]):
                problems.append("diagnosis: dw used errors that were not multiplied by w on the "
                                "way back")
            elif T > 1 and _ch03_same(g_w, float(np.dot(dinputs[1:], y[:-1]))):
                problems.append("diagnosis: you left out the first step: y_1 = w y_0 + u_1 "
                                "also uses w, so it contributes delta_1 * y_0")
            return problems, n
        errs = compare("dy0", g_y0, dy0, 1e-9)
        if errs:
            problems.append(errs[0] + where)
            if _ch03_same(g_y0, var["dy0_delta1"]):
                problems.append("diagnosis: dy0 is delta_1 * w: y_0 reaches y_1 through the "
                                "weight w, so there is one more multiplication by w")
            return problems, n

    # Against numerical gradients of L = sum_t dy_t * y_t (a check of the check).
    n += 1
    w, T = 0.9, 6
    u = rng.standard_normal(T)
    y0 = np.array(float(rng.standard_normal()))
    dy = rng.standard_normal(T)
    wa = np.array(w)
    y, cache = linear_unit_forward(w, u, float(y0))
    result = _ch03_call(student_fn, dy.copy(), (w, float(y0), y.copy()))

    def loss():
        return float(np.dot(dy, linear_unit_forward(float(wa), u, float(y0))[0]))

    num = {"dinputs": eval_numerical_gradient(loss, u), "dw": float(eval_numerical_gradient(loss, wa)),
           "dy0": float(eval_numerical_gradient(loss, y0))}
    for label, got in zip(("dinputs", "dw", "dy0"), result):
        errs = compare(f"{label} (compared with a numerical gradient)", _ch03_as_scalar(got),
                       num[label], 1e-6)
        if errs:
            return [errs[0]], n
    return [], n


def _ch03_nonlinear_variants(w, inputs, activation):
    """Typical wrong error-flow factors of y_t = act(w y_{t-1} + u_t) (y_0 = 0)."""
    from .cec import nonlinear_unit_forward
    y = nonlinear_unit_forward(w, inputs, activation)
    T = y.shape[0]
    net = w * np.concatenate([[0.0], y[:-1]]) + inputs
    if activation == "tanh":
        d_out = 1 - y ** 2
        other = y * (1 - y)                      # the sigmoid's formula
    else:
        d_out = y * (1 - y)
        other = 1 - y ** 2                       # the tanh formula
    y_prev = np.concatenate([[0.0], y[:-1]])
    d_prev = 1 - y_prev ** 2 if activation == "tanh" else y_prev * (1 - y_prev)

    def factors(local, reverse=True):
        f = np.ones(T + 1)
        for k in range(1, T + 1):
            f[k] = f[k - 1] * (local[T - k] if reverse else local[k - 1])
        return f

    out = {
        "no_w": factors(d_out),
        "order": factors(w * d_out, reverse=False),
        "prev": factors(w * d_prev),
        "other_act": factors(w * other),
    }
    if activation == "tanh":
        out["net"] = factors(w * (1 - net ** 2))   # the formula applied to net, not y
    return out


@register("nonlinear_error_flow")
def _check_nonlinear_error_flow(student_fn, rng):
    """``student_fn(w, inputs, activation) -> factors (T+1,)``, factors[k] = dy_T/dy_{T-k}
    for y_t = act(w y_{t-1} + u_t), y_0 = 0."""
    from .cec import nonlinear_error_flow
    cases = [(1.0, 8, "tanh", 0.5), (1.0, 8, "sigmoid", 1.0), (0.7, 5, "tanh", 1.0),
             (2.0, 6, "tanh", 0.8), (4.0, 6, "sigmoid", 1.0), (1.0, 1, "tanh", 1.0)]
    for k in range(3):
        cases.append((float(rng.uniform(0.5, 3.0)), int(rng.integers(3, 15)),
                      ("tanh", "sigmoid")[k % 2], 1.0))
    n = 0
    for w, T, act, scale in cases:
        n += 1
        inputs = rng.standard_normal(T) * scale
        expected = nonlinear_error_flow(w, inputs, act)
        where = f"  [activation = {act!r}, w = {w:.3g}, T = {T}]"
        got = _ch03_call(student_fn, w, inputs.copy(), act)
        errs = compare("factors", got, expected, 1e-9)
        if not errs:
            continue
        problems = [errs[0] + where]
        var = _ch03_nonlinear_variants(w, inputs, act)
        got_arr = None if got is None else np.asarray(got)
        if got_arr is not None and got_arr.shape == (T,):
            problems.append("diagnosis: return T + 1 factors: factors[0] = 1 (zero steps back), "
                            "then factors[k] for k = 1 ... T")
        elif w != 1.0 and _ch03_same(got, var["no_w"]):
            problems.append("diagnosis: one step back multiplies the error by dy_t/dy_{t-1} = "
                            "w * act'(net_t): you forgot the factor w")
        elif "net" in var and _ch03_same(got, var["net"]):
            problems.append("diagnosis: tanh'(net) = 1 - tanh(net)**2 = 1 - y_t**2: you used "
                            "1 - net_t**2, the formula applied to the pre-activation")
        elif _ch03_same(got, var["other_act"]):
            problems.append(f"diagnosis: you used the derivative of the other activation; for "
                            f"{act!r} it is " + ("1 - y**2" if act == "tanh" else "y * (1 - y)"))
        elif _ch03_same(got, var["order"]):
            problems.append("diagnosis: wrong time order: going k steps back from y_T multiplies "
                            "the local factors of steps T, T-1, ..., T-k+1 (start at the END of "
                            "the trajectory)")
        elif _ch03_same(got, var["prev"]):
            problems.append("diagnosis: off by one: the step from y_{t-1} to y_t uses act'(net_t), "
                            "the derivative at the NEW state y_t, not at y_{t-1}")
        return problems, n
    return [], n


@register("predict_cec_factor")
def _check_predict_cec_factor(student_fn, rng):
    """``student_fn() -> dict`` with keys "linear" (w = 1.02, 200 steps), "tanh" (tanh unit,
    w = 1, inputs 0.5, 200 steps), "tanh_step" (its factor for the last step back) and
    "tanh_grows" (bool)."""
    from .cec import error_flow, nonlinear_error_flow
    answer = student_fn() if callable(student_fn) else student_fn
    if not isinstance(answer, dict):
        return [f"return a dict with the keys 'linear', 'tanh', 'tanh_step', 'tanh_grows' "
                f"(got {type(answer).__name__})"], 0
    missing = [k for k in ("linear", "tanh", "tanh_step", "tanh_grows") if k not in answer]
    if missing:
        return [f"the dict is missing the key(s) {missing}"], 0
    linear = error_flow(1.02, 200)[200]
    tanh_f = nonlinear_error_flow(1.0, np.full(200, 0.5), "tanh")
    problems = []
    errs = compare("answer['linear'] (w = 1.02, 200 steps)", _ch03_as_scalar(answer["linear"]),
                   linear, 1e-6)
    if errs:
        got = _ch03_as_scalar(answer["linear"])
        problems += errs
        if isinstance(got, float) and np.isclose(got, 1.02 * 200, rtol=1e-6):
            problems.append("diagnosis: the factors multiply, they do not add: w ** k, not w * k")
        elif isinstance(got, float) and np.isclose(got, 1.02 ** 199, rtol=1e-6):
            problems.append("diagnosis: off by one: 200 steps back are 200 multiplications by w")
    errs = compare("answer['tanh'] (tanh unit, w = 1, inputs 0.5, 200 steps)",
                   _ch03_as_scalar(answer["tanh"]), tanh_f[200], 1e-6)
    if errs:
        problems += errs
    errs = compare("answer['tanh_step'] (the factor w * tanh'(net_T) of the last step back)",
                   _ch03_as_scalar(answer["tanh_step"]), tanh_f[1], 1e-4)
    if errs:
        problems += errs
        got = _ch03_as_scalar(answer["tanh_step"])
        if isinstance(got, float) and np.isclose(got, 1.0, rtol=1e-6):
            problems.append("diagnosis: tanh'(net) = 1 only at net = 0; with an input of 0.5 at "
                            "every step the unit settles at y = tanh(y + 0.5) > 0")
    if not isinstance(answer["tanh_grows"], (bool, np.bool_)):
        problems.append(f"answer['tanh_grows'] must be True or False (got {answer['tanh_grows']!r})")
    elif bool(answer["tanh_grows"]):
        problems.append("answer['tanh_grows']: the tanh unit's error does NOT grow: every step "
                        "back multiplies it by w * tanh'(net) = 1 - y_t**2 < 1")
    return problems, 4


@register("cec_w_for_one_percent")
def _check_cec_w_for_one_percent(student_fn, rng):
    """``student_fn(fraction, k) -> w``: the smallest w (how far below 1 the self-weight may
    be) such that the error factor w ** k after k steps is still at least ``fraction``."""
    cases = [(0.01, 500, "the chapter's question: fraction = 0.01, k = 500"),
             (0.5, 10, "fraction = 0.5, k = 10"), (0.1, 1000, "fraction = 0.1, k = 1000"),
             (0.9, 1, "a single step: fraction = 0.9, k = 1")]
    for j in range(3):
        cases.append((float(10 ** rng.uniform(-4, -0.1)), int(rng.integers(2, 2000)), f"random test {j + 1}"))
    n = 0
    for fraction, k, which in cases:
        n += 1
        best = fraction ** (1.0 / k)
        where = f"  [{which}]"
        got = _ch03_call(student_fn, fraction, k)
        if isinstance(got, (str, bytes, bool)) or got is None:
            return [f"return one number w (got {type(got).__name__}){where}"], n
        got = _ch03_as_scalar(got)
        if not isinstance(got, float):
            return [f"return one number w (got {type(got).__name__}){where}"], n
        if not np.isfinite(got) or not 0.0 < got < 1.0:
            return [f"w = {got!r} is not in (0, 1){where}"], n
        kept = got ** k
        if kept < fraction * (1 - 1e-7):
            msg = (f"with your w = {got:.8f} only {kept:.4g} of the error is left after {k} steps, "
                   f"less than the required {fraction:.4g}: w is too small (too far below 1){where}")
            if k > 1 and np.isclose(got, fraction ** (1.0 / (k - 1)), rtol=1e-12):
                msg += "; off by one: k steps back are k multiplications by w"
            return [msg], n
        if got > best + 1e-6:
            msg = (f"your w = {got:.8f} keeps {kept:.4g} of the error after {k} steps, more than "
                   f"the required {fraction:.4g}: a smaller w (by more than 1e-6) would still "
                   f"keep enough, so it is not the smallest such w{where}")
            if np.isclose(got, 1 - fraction / k, rtol=1e-12):
                msg += ("; 1 - fraction/k is a guess from a straight line, but the factors "
                        "multiply: you need w ** k = fraction")
            elif np.isclose(got, np.exp(np.log10(fraction) / k), rtol=1e-12):
                msg += "; mixing log10 and exp: use the natural log with exp (or log10 with 10 **)"
            elif np.isclose(got, fraction ** (1.0 / (k + 1)), rtol=1e-12):
                msg += "; off by one: k steps back are k multiplications by w"
            return [msg], n
    return [], n


# --- chapter 08: paper lab ---
# Checks: adding_metrics, cifg_step_forward, mean_std, compare_seeds. The CIFG
# reference is built from the package's lstm_step_forward: since
# sigmoid(-a) = 1 - sigmoid(a), giving the forget gate the NEGATED input-gate
# weights makes f = 1 - i exactly.
def _ch08_as_tuple(result, n, names):
    """A student's result as a tuple of n entries, or a problem message."""
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = type(result).__name__ if not isinstance(result, (tuple, list)) else f"{len(result)} values"
        return None, f"return a tuple {names} of {n} values (got {got})"
    return tuple(result), None


def _ch08_scalar(label, value):
    """A float from a number or one-element array, or a problem message."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"{label}: expected a number, got {type(value).__name__}"
    if arr.size != 1:
        return None, f"{label}: expected one number, got an array of shape {arr.shape}"
    v = float(arr.reshape(()))
    if not np.isfinite(v):
        return None, f"{label}: is {v} (NaN or inf)"
    return v, None


def _ch08_close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(a) + abs(b))


def _ch08_adding_reference(y_pred, y, tol):
    err = y_pred - y
    return (float(np.mean(err ** 2)), float(np.mean((y - 1.0) ** 2)),
            float(np.mean(np.abs(err) < tol)))


@register("adding_metrics")
def _check_adding_metrics(student_fn, rng):
    """``student_fn(y_pred, y, tol=0.04) -> (mse, baseline_mse, accuracy)``."""
    from .tasks import adding_problem

    names = "(mse, baseline_mse, accuracy)"
    cases = []
    _, y = adding_problem(8, 10, seed=int(rng.integers(1000)))
    cases.append((y + rng.normal(0, 0.05, y.shape), y, 0.04, "8 noisy predictions"))
    _, y = adding_problem(200, 20, seed=int(rng.integers(1000)))
    cases.append((np.ones_like(y), y, 0.04, "the constant prediction 1.0"))
    cases.append((y + rng.normal(0, 0.3, y.shape), y, 0.1, "200 predictions, tol=0.1"))
    y = np.array([0.5, 1.5, 1.0])
    cases.append((np.array([0.75, 1.5, 1.2]), y, 0.25, "an error of exactly tol=0.25 counts as wrong"))
    n = 0
    for y_pred, y, tol, which in cases:
        n += 1
        where = f"  [{which}]"
        result, msg = _ch08_as_tuple(student_fn(y_pred.copy(), y.copy(), tol), 3, names)
        if msg:
            return [msg + where], n
        mse_ref, base_ref, acc_ref = _ch08_adding_reference(y_pred, y, tol)
        got = []
        for label, value in zip(("mse", "baseline_mse", "accuracy"), result):
            v, msg = _ch08_scalar(label, value)
            if msg:
                return [msg + where], n
            got.append(v)
        mse, base, acc = got
        err = y_pred - y
        problems = []
        if not _ch08_close(mse, mse_ref):
            hint = ""
            if _ch08_close(mse, float(np.sqrt(mse_ref))):
                hint = "; that is the root of the MSE (RMSE): do not take the square root"
            elif _ch08_close(mse, float(np.mean(np.abs(err)))):
                hint = "; that is the mean ABSOLUTE error: square the errors"
            elif _ch08_close(mse, float(np.sum(err ** 2))):
                hint = "; that is the SUM of squared errors: take the mean"
            problems.append(f"mse: yours {mse:.6g}, expected {mse_ref:.6g}{hint}{where}")
        if not _ch08_close(base, base_ref):
            hint = ""
            if _ch08_close(base, float(np.var(y))):
                hint = ("; you predicted the sample mean of these targets: the baseline is the "
                        "constant 1.0 (the expected sum), fixed before seeing the test data")
            elif _ch08_close(base, float(np.mean((y_pred - 1.0) ** 2))):
                hint = "; compare the constant 1.0 with the TARGETS y, not with the predictions"
            elif _ch08_close(base, float(np.mean(y ** 2))):
                hint = "; that is the MSE of predicting 0; the baseline predicts 1.0"
            elif _ch08_close(base, float(np.mean(np.abs(y - 1.0)))):
                hint = "; square the errors of the baseline too"
            problems.append(f"baseline_mse: yours {base:.6g}, expected {base_ref:.6g}{hint}{where}")
        if not _ch08_close(acc, acc_ref):
            hint = ""
            if _ch08_close(acc, float(np.mean(np.abs(err) <= tol))):
                hint = "; a prediction is right only when |error| < tol (strictly)"
            elif _ch08_close(acc, float(np.sum(np.abs(err) < tol))):
                hint = "; return the FRACTION of correct predictions, not their count"
            elif _ch08_close(acc, float(np.mean(err < tol))):
                hint = "; use the absolute error |y_pred - y|"
            problems.append(f"accuracy: yours {acc:.6g}, expected {acc_ref:.6g}{hint}{where}")
        if problems:
            return problems, n
    return [], n


def _ch08_cifg_reference(x, prev_h, prev_c, Wx, Wh, b):
    """CIFG step from the package: f-block of the weights := - i-block."""
    from .lstm import lstm_step_forward

    H = Wh.shape[0]
    Wx2, Wh2, b2 = Wx.copy(), Wh.copy(), b.copy()
    for M in (Wx2, Wh2):
        M[:, H:2 * H] = -M[:, :H]
    b2[H:2 * H] = -b2[:H]
    next_h, next_c, _ = lstm_step_forward(x, prev_h, prev_c, Wx2, Wh2, b2)
    return next_h, next_c


def _ch08_cifg_mistakes(x, prev_h, prev_c, Wx, Wh, b):
    """Typical wrong CIFG steps, name -> (next_h, next_c)."""
    from .activations import sigmoid

    H = Wh.shape[0]
    a = x @ Wx + prev_h @ Wh + b
    i, f_own = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    o, g = sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    out = {}

    def add(name, f, h_act=np.tanh, i_used=i):
        c = f * prev_c + i_used * g
        out[name] = (o * h_act(c), c)

    add("the forget gate still has its own weights (f = sigmoid(a_f)): in CIFG f = 1 - i", f_own)
    add("f = i: the coupled forget gate is 1 - i", i)
    add("no forget gate at all (f = 1): in CIFG f = 1 - i", np.ones_like(i))
    add("1 - i was used for the INPUT and i for the forget gate (they are swapped)", i, i_used=1 - i)
    add("h = o * c: the output activation tanh is missing", 1 - i, h_act=lambda c: c)
    c = (1 - i) * prev_c + i * g
    out["h = o * tanh(prev_c): use the NEW cell state"] = (o * np.tanh(prev_c), c)
    return out


@register("cifg_step_forward")
def _check_cifg_step_forward(student_fn, rng):
    """``student_fn(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c)`` with f = 1 - i."""
    n = 0
    for N, D, H in ((2, 3, 4), (1, 2, 3), (3, 5, 2)):
        n += 1
        args = (rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H)) * 2,
                rng.normal(0, 0.6, (D, 4 * H)), rng.normal(0, 0.6, (H, 4 * H)),
                rng.normal(0, 0.6, 4 * H))
        copies = tuple(a.copy() for a in args)
        result, msg = _ch08_as_tuple(student_fn(*copies), 2, "(next_h, next_c)")
        where = f"  [test with N={N}, D={D}, H={H}]"
        if msg:
            return [msg + where], n
        if any(not np.array_equal(a, c) for a, c in zip(args, copies)):
            return ["your function modified its inputs in place; compute new arrays instead" + where], n
        exp_h, exp_c = _ch08_cifg_reference(*args)
        problems = compare("next_c", result[1], exp_c) + compare("next_h", result[0], exp_h)
        if problems:
            got_h, got_c = (np.asarray(r, dtype=np.float64) for r in result)
            for name, (mh, mc) in _ch08_cifg_mistakes(*args).items():
                if (got_h.shape == mh.shape and got_c.shape == mc.shape
                        and np.allclose(got_h, mh, rtol=1e-7, atol=1e-10)
                        and np.allclose(got_c, mc, rtol=1e-7, atol=1e-10)):
                    problems.append(f"your result matches a typical mistake: {name}")
                    break
            return [p + where if not p.startswith("your result") else p for p in problems], n
    return [], n


@register("mean_std")
def _check_mean_std(student_fn, rng):
    """``student_fn(values) -> (mean, std)`` with the sample std (ddof=1)."""
    cases = [(np.array([0.1, 0.3, 0.2]), "three seeds"),
             (rng.uniform(0, 1, 10), "ten seeds"),
             (np.array([0.0016, 0.0018, 0.0015, 0.0900]), "four seeds, one failed run"),
             (np.array([2.0, 2.0]), "two equal values (std 0)")]
    n = 0
    for values, which in cases:
        n += 1
        where = f"  [{which}: {np.round(values, 4).tolist()}]"
        result, msg = _ch08_as_tuple(student_fn(values.copy()), 2, "(mean, std)")
        if msg:
            return [msg + where], n
        got = []
        for label, value in zip(("mean", "std"), result):
            v, msg = _ch08_scalar(label, value)
            if msg:
                return [msg + where], n
            got.append(v)
        mean, std = got
        exp_mean, exp_std = float(np.mean(values)), float(np.std(values, ddof=1))
        problems = []
        if not _ch08_close(mean, exp_mean):
            hint = "; that is the median" if _ch08_close(mean, float(np.median(values))) else ""
            problems.append(f"mean: yours {mean:.6g}, expected {exp_mean:.6g}{hint}{where}")
        if not _ch08_close(std, exp_std):
            hint = ""
            if _ch08_close(std, float(np.std(values))):
                hint = ("; that is the population std (ddof=0): with a few seeds use the sample "
                        "std, dividing by n - 1 (np.std(values, ddof=1))")
            elif _ch08_close(std, float(np.var(values, ddof=1))):
                hint = "; that is the variance: take its square root"
            elif _ch08_close(std, float(np.std(values, ddof=1) / np.sqrt(len(values)))):
                hint = "; that is the standard error of the mean; return the std of the seeds"
            problems.append(f"std: yours {std:.6g}, expected {exp_std:.6g}{hint}{where}")
        if problems:
            return problems, n
    return [], n


@register("compare_seeds")
def _check_compare_seeds(student_fn, rng):
    """``student_fn(a, b) -> (mean_diff, std_diff, wins)``: paired per seed, d = a - b,
    std with ddof=1, wins = number of seeds with a < b (lower is better)."""
    cases = [(np.array([0.30, 0.10, 0.20]), np.array([0.35, 0.05, 0.40]), "three seeds"),
             (rng.uniform(0, 1, 8), rng.uniform(0, 1, 8), "eight seeds"),
             (np.array([0.5, 0.2, 0.9, 0.4]), np.array([0.5, 0.3, 0.1, 0.6]), "a tie on seed 0")]
    n = 0
    for a, b, which in cases:
        n += 1
        where = f"  [{which}: a={np.round(a, 3).tolist()}, b={np.round(b, 3).tolist()}]"
        result, msg = _ch08_as_tuple(student_fn(a.copy(), b.copy()), 3, "(mean_diff, std_diff, wins)")
        if msg:
            return [msg + where], n
        got = []
        for label, value in zip(("mean_diff", "std_diff", "wins"), result):
            v, msg = _ch08_scalar(label, value)
            if msg:
                return [msg + where], n
            got.append(v)
        mean_d, std_d, wins = got
        d = a - b
        exp = (float(d.mean()), float(d.std(ddof=1)), float(np.sum(a < b)))
        problems = []
        if not _ch08_close(mean_d, exp[0]):
            hint = "; the difference is a - b (lower a is better, so negative favours a)" \
                if _ch08_close(mean_d, -exp[0]) else ""
            problems.append(f"mean_diff: yours {mean_d:.6g}, expected {exp[0]:.6g}{hint}{where}")
        if not _ch08_close(std_d, exp[1]):
            ds = np.sort(a) - np.sort(b)
            hint = ""
            if _ch08_close(std_d, float(np.sqrt(a.var(ddof=1) + b.var(ddof=1)))):
                hint = ("; that treats a and b as unpaired; take the std of the per-seed "
                        "differences a[k] - b[k]")
            elif _ch08_close(std_d, float(d.std())):
                hint = "; use the sample std (ddof=1)"
            elif _ch08_close(std_d, float(ds.std(ddof=1))):
                hint = "; the arrays were sorted, which breaks the pairing by seed"
            problems.append(f"std_diff: yours {std_d:.6g}, expected {exp[1]:.6g}{hint}{where}")
        if not _ch08_close(wins, exp[2]):
            hint = ""
            if _ch08_close(wins, float(np.sum(a <= b))):
                hint = "; a tie is not a win: count a < b strictly"
            elif _ch08_close(wins, float(np.sum(a > b))):
                hint = "; lower is better here: count the seeds where a < b"
            elif _ch08_close(wins, float(np.mean(a < b))):
                hint = "; return the NUMBER of seeds, not the fraction"
            problems.append(f"wins: yours {wins:g}, expected {exp[2]:g}{hint}{where}")
        if problems:
            return problems, n
    return [], n


# --- chapter 07: a character-level LSTM that writes text ---
# Checks: temperature_probs, sample_with_temperature, evaluate_per_char, train_step.
# Wrong answers are compared with typical mistakes (multiplying by T, bits instead
# of nats, no carried state, mean over chunks, clipping after the update, ...) and
# the matching one is named.
def _ch07_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


_CH07_LOGIT_CASES = (
    ("random scores, T = 1", lambda rng: rng.standard_normal(6) * 2.0, 1.0),
    ("random scores, T = 0.5", lambda rng: rng.standard_normal(7) * 2.0, 0.5),
    ("random scores, T = 2", lambda rng: rng.standard_normal(5) * 2.0, 2.0),
    ("random scores, T = 3.7", lambda rng: rng.standard_normal(9), 3.7),
    ("large scores [1000, 990, 0], T = 0.1", lambda rng: np.array([1000.0, 990.0, 0.0]), 0.1),
    ("scores [800, -800, 0, 10], T = 0.01", lambda rng: np.array([800.0, -800.0, 0.0, 10.0]), 0.01),
    ("equal scores, T = 0.3", lambda rng: np.full(4, 2.5), 0.3),
)


@register("temperature_probs")
def _check_temperature_probs(student_fn, rng):
    problems, n = [], 0
    for label, make, T in _CH07_LOGIT_CASES:
        logits = make(rng)
        expected = _ch07_softmax(logits / T)
        with np.errstate(all="ignore"):
            got = student_fn(logits.copy(), T)
        n += 1
        if got is None:
            return [f"{label}: your function returned None (did you forget to return it?)"], n
        got = np.asarray(got, dtype=np.float64)
        if got.shape != expected.shape:
            return [f"{label}: shape {got.shape}, expected {expected.shape} (one probability per score)"], n
        if not np.all(np.isfinite(got)):
            return [f"{label}: your probabilities contain NaN or inf: exp overflowed. Subtract the "
                    "largest score before exp (it does not change the softmax)"], n
        msg = compare(f"{label}: probabilities", got, expected, tol=1e-9)
        if msg:
            hint = ""
            if np.allclose(got, _ch07_softmax(logits * T), rtol=1e-9, atol=1e-12):
                hint = ": they equal softmax(logits * T); divide the scores by T, do not multiply"
            elif np.allclose(got, _ch07_softmax(logits), rtol=1e-9, atol=1e-12):
                hint = ": they equal softmax(logits); the temperature was not used"
            elif not np.isclose(got.sum(), 1.0, rtol=1e-9):
                hint = f": they sum to {got.sum():.6g}, not 1 (normalise)"
            problems.append(msg[0] + hint)
            break
    return problems, n


@register("sample_with_temperature")
def _check_sample_with_temperature(student_fn, rng):
    problems, n = [], 0
    draws = 4000
    for label, logits, T in (("scores [2, 1, 0, -1], T = 1", np.array([2.0, 1.0, 0.0, -1.0]), 1.0),
                             ("scores [2, 1, 0, -1], T = 0.5", np.array([2.0, 1.0, 0.0, -1.0]), 0.5),
                             ("scores [1, 0.5, 0, 0, -1], T = 2", np.array([1.0, 0.5, 0.0, 0.0, -1.0]), 2.0)):
        p = _ch07_softmax(logits / T)
        g = np.random.default_rng(1234)
        samples = []
        for _ in range(draws):
            k = student_fn(logits.copy(), T, g)
            if k is None:
                return [f"{label}: your function returned None (return the sampled index)"], n
            try:
                k = int(np.asarray(k).item())
            except (TypeError, ValueError):
                return [f"{label}: return one integer index, got {type(k).__name__} {k!r:.40}"], n
            if not 0 <= k < len(logits):
                return [f"{label}: index {k} out of range [0, {len(logits)})"], n
            samples.append(k)
        n += 1
        freq = np.bincount(samples, minlength=len(logits)) / draws
        se = np.sqrt(p * (1 - p) / draws)
        if np.any(np.abs(freq - p) > 5 * se + 1e-3):
            msg = (f"{label}: the frequencies of {draws} draws are {np.round(freq, 3).tolist()}, "
                   f"expected about {np.round(p, 3).tolist()}")
            if len(set(samples)) == 1:
                msg += "; you always return the same index: sample with rng.choice instead of argmax"
            elif np.all(np.abs(freq - _ch07_softmax(logits * T)) <= 5 * se + 2e-2):
                msg += "; they match softmax(logits * T): divide the scores by T, do not multiply"
            elif np.all(np.abs(freq - _ch07_softmax(logits)) <= 5 * se + 2e-2):
                msg += "; they match softmax(logits): the temperature was not used"
            return [msg], n
    # reproducible: the same generator state gives the same draws
    logits = np.array([0.3, 0.1, -0.2, 0.0, 0.4])
    a = [int(student_fn(logits, 1.0, np.random.default_rng(7))) for _ in range(20)]
    g1, g2 = np.random.default_rng(99), np.random.default_rng(99)
    b1 = [int(student_fn(logits, 1.0, g1)) for _ in range(30)]
    b2 = [int(student_fn(logits, 1.0, g2)) for _ in range(30)]
    n += 1
    if len(set(a)) != 1 or b1 != b2:
        problems.append("two generators with the same seed gave different draws: draw with the `rng` "
                        "argument (rng.choice or rng.random), not np.random or the random module")
    # large scores and a small temperature must not overflow
    n += 1
    try:
        with np.errstate(all="ignore"):
            k = student_fn(np.array([1000.0, 990.0, 0.0]), 0.1, np.random.default_rng(0))
    except (ValueError, FloatingPointError, OverflowError) as exc:
        problems.append(f"scores [1000, 990, 0] at T = 0.1 made your function raise "
                        f"{type(exc).__name__}: {exc}; exp overflowed: subtract the largest score before exp")
        return problems, n
    if k is None or int(np.asarray(k).item()) != 0:
        problems.append("scores [1000, 990, 0] at T = 0.1 should give index 0 (probability "
                        f"1 - 5e-44), got {k!r}: subtract the largest score before exp")
    return problems, n


def _ch07_evaluate_variant(model, text_ix, T, *, carry=True, weight="chars", drop_last=False):
    """The held-out loss per character, or one of the typical mistakes."""
    inputs_all, targets_all = text_ix[:-1], text_ix[1:]
    state, total, count, chunk_means = None, 0.0, 0, []
    for s in range(0, len(inputs_all), T):
        x, y = inputs_all[None, s:s + T], targets_all[None, s:s + T]
        if drop_last and x.shape[1] < T:
            break
        loss, _, new_state = model.loss_and_grads(x, y, state if carry else None)
        state = new_state
        total += loss * x.shape[1]
        count += x.shape[1]
        chunk_means.append(loss)
    return float(np.mean(chunk_means)) if weight == "chunks" else total / count


@register("evaluate_per_char")
def _check_evaluate_per_char(student_fn, rng):
    from .models import CharLSTM, CharRNN

    problems, n = [], 0
    cases = (("a 1-layer CharLSTM, 53 characters, T = 10", CharLSTM(7, 5, seed=3), 53, 10),
             ("a 2-layer CharLSTM, 38 characters, T = 8", CharLSTM(6, 4, num_layers=2, seed=4), 38, 8),
             ("a CharRNN, 41 characters, T = 10", CharRNN(5, 6, seed=5), 41, 10),
             ("a CharLSTM, 12 characters, T = 20 (one chunk)", CharLSTM(4, 3, seed=6), 12, 20))
    for label, model, length, T in cases:
        # scale up the weights so the state matters (a carried state changes the loss)
        for k in model.parameters:
            if k.startswith("W"):
                model.parameters[k] *= 3.0
        text_ix = rng.integers(0, model.V, size=length)
        before = {k: v.copy() for k, v in model.parameters.items()}
        expected = _ch07_evaluate_variant(model, text_ix, T)
        got = student_fn(model, text_ix.copy(), T)
        n += 1
        if any(not np.array_equal(before[k], model.parameters[k]) for k in before):
            return [f"{label}: your function changed the model's parameters; evaluation must not train"], n
        if got is None:
            return [f"{label}: your function returned None (return the mean loss)"], n
        try:
            got = float(got)
        except (TypeError, ValueError):
            return [f"{label}: return one number (the mean loss), got {type(got).__name__}"], n
        if np.isclose(got, expected, rtol=1e-9, atol=0):
            continue
        msg = f"{label}: you returned {got:.6f}, expected {expected:.6f} nats per character"
        variants = (
            (expected / np.log(2), "this is the loss in bits; return nats (the natural-log loss of "
                                   "loss_and_grads) and convert to bits only when you print"),
            (_ch07_evaluate_variant(model, text_ix, T, carry=False),
             "this is what you get when every chunk starts from a zero state: pass the state "
             "returned by one chunk to the next"),
            (_ch07_evaluate_variant(model, text_ix, T, weight="chunks"),
             "this is the mean of the chunk losses; the last chunk is shorter, so weight each "
             "chunk by its number of characters"),
            (_ch07_evaluate_variant(model, text_ix, T, drop_last=True),
             "this leaves out the last, shorter chunk: every character after the first must be "
             "predicted once"),
            (_ch07_evaluate_variant(model, text_ix, T, carry=False, weight="chunks"),
             "this is the mean of chunk losses, each from a zero state: carry the state and "
             "weight by characters"),
        )
        for value, hint in variants:
            if np.isclose(got, value, rtol=1e-9, atol=0):
                msg += f"; {hint}"
                break
        problems.append(msg)
        break
    return problems, n


def _ch07_train_step_variant(model, opt, batches, max_norm, *, mode="ref"):
    """Run consecutive train steps the reference way or a typical wrong way."""
    from .optim import clip_grad_norm, clip_grad_value, global_norm

    state, out = None, []
    for inputs, targets in batches:
        loss, grads, new_state = model.loss_and_grads(inputs, targets,
                                                       None if mode == "no_state" else state)
        state = new_state
        norm = global_norm(grads)
        if mode == "no_clip":
            pass
        elif mode == "value_clip":
            clip_grad_value(grads, max_norm)
        elif mode == "clip_after":
            opt.step(model.parameters, grads)
            clip_grad_norm(grads, max_norm)
        else:
            clip_grad_norm(grads, max_norm)
        if mode != "clip_after":
            opt.step(model.parameters, grads)
        out.append((loss, {k: g.copy() for k, g in grads.items()}, norm,
                    {k: p.copy() for k, p in model.parameters.items()}))
    return out


@register("train_step")
def _check_train_step(student_fn, rng):
    from .models import CharLSTM
    from .optim import Adam

    problems, n = [], 0
    for label, max_norm in (("max_norm = 0.05 (clipping acts)", 0.05),
                            ("max_norm = 100 (clipping does nothing)", 100.0)):
        V, H, N, T = 7, 5, 3, 6
        batches = [(rng.integers(0, V, size=(N, T)), rng.integers(0, V, size=(N, T))) for _ in range(3)]
        ref_model = CharLSTM(V, H, seed=11)
        ref = _ch07_train_step_variant(ref_model, Adam(lr=0.05), batches, max_norm)

        model, opt, state = CharLSTM(V, H, seed=11), Adam(lr=0.05), None
        for step, (inputs, targets) in enumerate(batches):
            result = student_fn(model, inputs, targets, state, opt, max_norm)
            n += 1
            if result is None or len(result) != 4:
                return [f"{label}: return (loss, grads, state, norm), got {result!r:.60}"], n
            loss, grads, state, norm = result
            r_loss, r_grads, r_norm, r_params = ref[step]
            where = f"{label}, step {step + 1}"
            found = []
            found += compare(f"{where}: loss", loss, r_loss, tol=1e-9)
            if found and step > 0:
                found[0] += ("; the first step was right, so the state is probably not carried: "
                             "pass `state` to loss_and_grads and return the new one")
                return found, n
            found += compare(f"{where}: norm", norm, r_norm, tol=1e-9)
            if found and max_norm < 1 and np.isclose(float(norm), max_norm, rtol=1e-9):
                found[-1] += "; return the norm BEFORE clipping (clip_grad_norm returns it)"
            if not isinstance(grads, dict) or set(grads) != set(r_grads):
                return found + [f"{where}: grads must be a dict with the keys {sorted(r_grads)}"], n
            grad_problems = []
            for k in r_grads:
                grad_problems += compare(f"{where}: grads[{k!r}]", grads[k], r_grads[k], tol=1e-8)
            found += grad_problems
            for k in r_params:
                found += compare(f"{where}: parameter {k!r} after the update", model.parameters[k],
                                 r_params[k], tol=1e-8)
            if found:
                hint = _ch07_train_step_hint(batches, max_norm, model, step, not grad_problems)
                return ([hint] if hint else []) + found[:3], n
    return problems, n


def _ch07_train_step_hint(batches, max_norm, student_model, step, grads_ok):
    """Name the typical mistake whose parameters match the student's."""
    from .models import CharLSTM
    from .optim import Adam

    hints = {
        "no_clip": ("your returned gradients are clipped correctly, but the parameters were updated "
                    "with the UNCLIPPED gradients (clipping AFTER optimizer.step, or clipping a copy): "
                    "clip the gradients first, then step with them") if grads_ok else
                   "your update matches one WITHOUT clipping: call clip_grad_norm(grads, max_norm) "
                   "before optimizer.step",
        "value_clip": "your gradients match value clipping (np.clip to [-max_norm, max_norm]); clip the "
                      "global norm instead (optim.clip_grad_norm)",
    }
    for mode, hint in hints.items():
        m = CharLSTM(7, 5, seed=11)
        out = _ch07_train_step_variant(m, Adam(lr=0.05), batches[:step + 1], max_norm, mode=mode)
        params = out[-1][3]
        if all(np.allclose(student_model.parameters[k], params[k], rtol=1e-8, atol=1e-12) for k in params):
            return hint
    return None
