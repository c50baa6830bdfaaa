"""Exercise checks for chapter 01: vanilla RNN and backpropagation through time."""
import numpy as np

from . import _diagnose as dg
from ._bptt import LOOP_HINTS, bptt_variant
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
    out["dWh uses h_t: at step t, Wh multiplies the PREVIOUS hidden state, so "
        "dWh = prev_h.T @ da (h_{t-1}), not next_h.T @ da (h_t)"] = (nan, nan, nan, next_h.T @ da, nan)
    out["db is the MEAN of da over the batch: b is added to every row of the batch, so its "
        "gradient is the SUM over the batch axis (axis 0)"] = (nan, nan, nan, nan, da.mean(axis=0))
    return out


def _ch01_step_variant(bug):
    """A step backward with one of the mistakes above (for the hypotheses of rnn_backward)."""
    def step(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = {"no_tanh": dnext_h, "no_square": dnext_h * (1 - next_h)}.get(bug, dnext_h * (1 - next_h ** 2))
        h_in = next_h if bug == "dWh_h_t" else prev_h
        db = da.mean(axis=0) if bug == "db_mean" else da.sum(axis=0)
        return da @ Wx.T, da @ (Wh if bug == "no_transpose" else Wh.T), x.T @ da, h_in.T @ da, db
    return step


_CH01_STEP_BUGS = {
    "no_tanh": "your BPTT matches a step backward without the tanh derivative: "
               "da = dnext_h * (1 - next_h**2)",
    "no_square": "your BPTT matches a step backward with 1 - next_h instead of 1 - next_h**2",
    "dWh_h_t": "your BPTT computes dWh with h_t: at step t, Wh multiplies the PREVIOUS hidden "
               "state, so each step adds prev_h.T @ da (h_{t-1}), not next_h.T @ da",
    "db_mean": "your BPTT matches a step backward whose db is the MEAN over the batch; it is "
               "the SUM (b is added to every row)",
    "no_transpose": "the gradient sent back to h_{t-1} must be multiplied by the TRANSPOSE of Wh",
}


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
    c = dg.constant_factor(got, expected)
    if c is not None:
        return f" — {label} is " + dg.name_factor(c, N=N)
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


_CH01_RNN_BACKWARD_HINTS = {
    "overwrite": "equals the gradient of ONE time step only: Wx, Wh and b are shared by all "
                 "T steps, so add up (+=) the contributions of every step",
    "no_dprev_h": "you seem to ignore the gradient flowing back from step t+1: h_t is used by the "
                "layer above (dh[:, t]) AND by the next step, and the gradients of a reused value add",
    "no_dh_t": "you seem to use only the gradient flowing back in time: h_t also receives "
             "dh[:, t] from the layer above",
    "forward_in_time": "the loop must run backwards in time (t = T-1, ..., 0): step t needs the "
                       "gradient that step t+1 sends back",
}


def _ch01_wrong_step(student_fn):
    """The name of a step backward that the student's BPTT calls and that is wrong, or None."""
    from ..rnn import rnn_step_backward, rnn_step_forward
    rng = np.random.default_rng(101)
    x, prev_h = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    Wx, Wh, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 5)), rng.standard_normal(5)
    _, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
    dnext_h = rng.standard_normal((3, 5))
    for name, fn in dg.helpers_called(student_fn, 2):
        try:
            got = fn(dnext_h.copy(), _ch01_copy_cache(cache))
            if not isinstance(got, (tuple, list)) or len(got) != 5:
                continue
        except Exception:          # not a step backward
            continue
        if not all(_ch01_close(g, e) for g, e in zip(got, rnn_step_backward(dnext_h, cache))):
            return name
    return None


def _ch01_error_map(student_fn):
    """The error map (per step t) of the da that the student's dx implies, on a probe D >= H."""
    from ..rnn import rnn_forward, rnn_step_backward
    rng = np.random.default_rng(102)
    N, T, D, H = 2, 5, 6, 3
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.5, rng.standard_normal(H)
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal((N, T, H))
    try:
        dx = np.asarray(student_fn(dh.copy(), _ch01_copy_cache(cache))[0], dtype=np.float64)
    except Exception:
        return []
    ref_dx = bptt_variant(dh, cache, rnn_step_backward, False)[0][0]
    if dx.shape != ref_dx.shape or not np.all(np.isfinite(dx)):
        return []
    emap = dg.error_map(dg.implied_da(dx, Wx), dg.implied_da(ref_dx, Wx), n_blocks=1)
    pattern = dg.describe_map(emap, blocks=("da",))
    return ([pattern] if pattern else []) + [dg.format_map(emap, "the da that your dx implies",
                                                          blocks=("da",))]


def _ch01_diagnose_sequence(student_fn, got, expected, dh, cache, hinted):
    """Sentences for a wrong rnn_backward: the step it calls, a hypothesis, or patterns."""
    from ..rnn import rnn_step_backward
    step_name = _ch01_wrong_step(student_fn)
    if step_name:
        msg = (f"your step backward is wrong: fix Exercise 1.1 first (its check names the "
               f"mistake); your rnn_backward calls {step_name}")
        try:
            fixed = dg.with_helper(student_fn, step_name, rnn_step_backward)(dh.copy(), cache)
            if all(_ch01_close(g, e) for g, e in zip(fixed, expected)):
                msg += ", and with the package's step backward in its place your loop is right"
        except Exception:
            pass
        return [msg]
    if hinted:
        return []
    hyps = {}
    for mode in ("cache_shifted", "dh_shifted", "carry_delayed", "dh0_plus_dh"):
        outs = list(bptt_variant(dh, cache, rnn_step_backward, False, mode)[0])
        if mode == "carry_delayed":
            outs[1] = None             # where a delayed carry leaves dh0 depends on the code
        hint = LOOP_HINTS[mode].replace(" (dprev_h, dprev_c)", " (dprev_h)")
        hyps[hint.replace("caches[", "cache[")] = tuple(outs)
    for bug, msg in _CH01_STEP_BUGS.items():
        hyps[msg] = bptt_variant(dh, cache, _ch01_step_variant(bug), False)[0]
    hint = dg.first_match(got, hyps)
    if hint:
        return ["diagnosis: " + hint]
    N, T, _ = dh.shape
    per_step = bptt_variant(dh, cache, rnn_step_backward, False)[1]
    out, one_step = [], {}
    for k, (name, g, e) in enumerate(zip(("dx", "dh0", "dWx", "dWh", "db"), got, expected)):
        if k < 2 or _ch01_close(g, e) or np.shape(g) != np.shape(e):
            continue
        t = dg.single_step(g, [p[k - 2] for p in per_step])
        c = dg.constant_factor(g, e)
        if t is not None:
            one_step.setdefault(t, []).append(name)
        elif c is not None:
            out.append(f"{name} is " + dg.name_factor(c, N, T))
        elif dg.is_transpose(g, e):
            out.append(f"{name} is the transpose of the right gradient: check the order of the factors")
    for t, which in one_step.items():
        out.insert(0, f"{', '.join(which)}: {'equals' if len(which) == 1 else 'each equals'} the "
                      f"contribution of step t = {t} alone: the weights are shared by all T "
                      "steps, so add up (+=) the contributions of every step")
    if not _ch01_close(got[0], expected[0]):
        out += _ch01_error_map(student_fn)
    return out


@register("rnn_backward")
def _check_rnn_backward(student_fn, rng):
    """rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)."""
    from ..gradcheck import eval_numerical_gradient_array
    from ..rnn import rnn_backward, rnn_forward, rnn_step_backward

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
        variants = {m: bptt_variant(dh, cache, rnn_step_backward, False, m)[0]
                    for m in _CH01_RNN_BACKWARD_HINTS}
        hinted = False
        for k, (name, g, e) in enumerate(zip(names, got, expected)):
            for msg in compare(f"{name} (N={N}, T={T}, D={D}, H={H})", g, e):
                hint = ""
                for mode, outs in variants.items():
                    if _ch01_close(g, outs[k]):
                        hint = " — " + _CH01_RNN_BACKWARD_HINTS[mode]
                        hinted = True
                        break
                problems.append(msg + hint)
        if problems:
            diagnosis = _ch01_diagnose_sequence(student_fn, got, expected, dh, cache, hinted)
            if diagnosis and diagnosis[0].startswith("your step backward is wrong"):
                return diagnosis + problems, n_tests
            return problems + diagnosis, n_tests

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
        if bug != "no_minus_one":
            dy[targets[t]] -= 1
        if bug == "reset":
            g = {k: np.zeros_like(v) for k, v in g.items()}
        g["dWhy"] += dy @ (hs[t - 1] if bug == "why_prev" else hs[t]).T
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
    "no_minus_one": "the softmax gradient is missing the -1 at the target: dy = p - onehot(target), "
                    "so after copying ps[t], subtract 1 at dy[targets[t]]",
    "why_prev": "dWhy: the scores y_t = Why h_t + by use the hidden state of the SAME step, so "
                "dWhy += dy @ hs[t].T, not hs[t-1]",
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
