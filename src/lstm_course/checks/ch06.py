"""Exercise checks for chapter 06: LSTM backpropagation through time."""
import numpy as np

from ._core import compare, compare_numerical, register
from ._core import normwise_rel_error as _ch06_normwise


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
    from ..gradcheck import eval_numerical_gradient_array
    from ..lstm import lstm_step_backward as _ref_bwd
    from ..lstm import lstm_step_forward as _ref_fwd

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
        problems += compare_numerical(name, g_, num, tol=1e-7)
    return problems, n


def _ch06_forward_steps(x, h0, Wx, Wh, b):
    """Unrolled forward pass: h (N, T, H) and the list of T step caches."""
    from ..lstm import lstm_step_forward as _ref_fwd
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
    from ..lstm import lstm_step_backward as _ref_bwd
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
    from ..gradcheck import eval_numerical_gradient_array
    from ..lstm import lstm_backward as _ref_bwd
    from ..lstm import lstm_forward as _ref_fwd

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
        problems += compare_numerical(name, g_, num, tol=1e-7)
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
    from ..lstm import lstm_step_backward as _ref_bwd
    from ..lstm import lstm_step_forward as _ref_fwd

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
    from ..lstm import lstm_step_backward as _ref_bwd
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
    from ..lstm import lstm_step_forward as _ref_fwd
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
