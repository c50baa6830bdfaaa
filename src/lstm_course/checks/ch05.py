"""Exercise checks for chapter 05: peephole connections."""
import numpy as np

from . import _diagnose as dg
from ._core import compare, register


# Checks: lstm_step_forward_peephole, peephole_grads, peephole_output_gate.
# When an answer is wrong they compute typical peephole mistakes on the
# reference side (output gate peeking at c_{t-1}, a forgotten peephole, p_i and
# p_f swapped, the extra path into dc forgotten, ...) and name the one matched.
from ..activations import sigmoid as _ch05_sigmoid

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
    from ..lstm import lstm_step_forward as _ref
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
    from ..lstm import lstm_step_forward as _ref
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
    from ..lstm import lstm_step_backward as _ref_b, lstm_step_forward as _ref_f
    from ..gradcheck import eval_numerical_gradient
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
                    for nm, g_, e in zip(names, result, ref):
                        c = dg.constant_factor(g_, e)
                        if c is not None:
                            errs.append(f"diagnosis: {nm} is {dg.name_factor(c, N=N)}")
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
