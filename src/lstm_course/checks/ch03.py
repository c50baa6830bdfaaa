"""Exercise checks for chapter 03: the constant error carousel."""
import numpy as np

from ._core import compare, register


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

    def deltas_forwards():                 # the loop run forwards in time
        d, past = np.empty(T), 0.0
        for t in range(T):
            d[t] = dy[t] + past
            past = w * d[t]
        return d

    right, no_w = deltas(w), deltas(1.0)
    return {
        "right": right,
        "forwards": deltas_forwards(),      # delta_t = dy_t + w delta_{t-1}
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
    from ..cec import linear_unit_backward, linear_unit_forward
    from ..gradcheck import eval_numerical_gradient

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
            elif T > 1 and _ch03_same(g_in, var["forwards"]):
                problems.append("diagnosis: your loop runs forwards in time: it computes "
                                "delta_t = dy_t + w * delta_{t-1}, from the PAST; the error of "
                                "y_t comes from the future, delta_t = dy_t + w * delta_{t+1}, so "
                                "loop t = T, ..., 1 (range(T - 1, -1, -1)), starting with delta_T = dy_T")
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
    from ..cec import nonlinear_unit_forward
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
    from ..cec import nonlinear_error_flow
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
    from ..cec import error_flow, nonlinear_error_flow
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
