"""Exercise checks for chapter 01: vanilla RNN and backpropagation through time."""
import numpy as np

from ._core import compare, compare_numerical, register
from ._core import normwise_rel_error as _ch01_normwise


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
    from ..gradcheck import eval_numerical_gradient_array
    from ..rnn import rnn_step_backward, rnn_step_forward

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
        problems += compare_numerical(name, g, num, tol=1e-6)
    return problems, n_tests


def _ch01_rnn_backward_variant(dh, cache, mode):
    """rnn_backward with one typical bug switched on (for hints only)."""
    from ..rnn import rnn_step_backward

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
    from ..gradcheck import eval_numerical_gradient_array
    from ..rnn import rnn_backward, rnn_forward

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
        problems += compare_numerical(name, g, num, tol=1e-6)
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
    from ..char_rnn import loss_fun
    from ..gradcheck import eval_numerical_gradient

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
