"""The chapter 3 exercise checks accept the reference and reject realistic bugs."""
import numpy as np
import pytest

from lstm_course import cec
from lstm_course.checks import CheckFailed, check, run_check


# ---------------------------------------------------------------------------
# cec_backward: backward pass of y_t = w y_{t-1} + u_t, cache = (w, y0, y)
# ---------------------------------------------------------------------------
def cec_backward_ref(dy, cache):
    return cec.linear_unit_backward(dy, cache)


def _cec_backward(dy, cache, *, w_in_recursion=True, dw_shift=True, dy0_times_w=True,
                  w_early=False, first_step=True):
    w, y0, y = cache
    T = len(y)
    delta = np.zeros(T)
    future = 0.0
    for t in range(T - 1, -1, -1):
        delta[t] = dy[t] + future
        if w_early:
            delta[t] *= w
        future = (w if w_in_recursion and not w_early else 1.0) * delta[t]
    if w_early:
        delta_true = delta / w
        future = w * delta_true[0]
    y_prev = np.concatenate([[y0], y[:-1]])
    if dw_shift:
        dw = np.dot(delta, y_prev) if first_step else np.dot(delta[1:], y[:-1])
    else:
        dw = np.dot(delta, y)
    dy0 = w * delta[0] if dy0_times_w else delta[0]
    if w_early:
        dy0 = future
    return delta, float(dw), float(dy0)


def test_cec_backward_reference_passes():
    assert run_check("cec_backward", cec_backward_ref).passed
    assert run_check("cec_backward", _cec_backward).passed      # the variant helper is right by default
    check("cec_backward", cec_backward_ref)


@pytest.mark.parametrize("bug,words", [
    (dict(w_in_recursion=False), ["dinputs", "multiplied by", "= w"]),
    (dict(dw_shift=False), ["dw", "off by one", "y_{t-1}"]),
    (dict(dy0_times_w=False), ["dy0", "one more multiplication by w"]),
    (dict(w_early=True), ["dinputs", "only the part coming from the future"]),
    (dict(first_step=False), ["dw", "first step"]),
])
def test_cec_backward_rejects_bugs(bug, words):
    res = run_check("cec_backward", lambda dy, cache: _cec_backward(dy, cache, **bug))
    assert not res.passed
    text = " ".join(res.problems)
    for w in words:
        assert w in text, (w, text)


def test_cec_backward_rejects_reversed_and_wrong_return():
    def reversed_time(dy, cache):
        d, dw, dy0 = cec.linear_unit_backward(dy, cache)
        return d[::-1], dw, dy0
    res = run_check("cec_backward", reversed_time)
    assert not res.passed and "reversed time order" in " ".join(res.problems)
    res = run_check("cec_backward", lambda dy, cache: None)
    assert not res.passed and "tuple (dinputs, dw, dy0)" in res.problems[0]
    with pytest.raises(CheckFailed):
        check("cec_backward", lambda dy, cache: (dy, 0.0, 0.0))


def test_cec_backward_accepts_array_scalars():
    def as_arrays(dy, cache):
        d, dw, dy0 = cec.linear_unit_backward(dy, cache)
        return list(d), np.array(dw), np.array([dy0])
    assert run_check("cec_backward", as_arrays).passed


# ---------------------------------------------------------------------------
# nonlinear_error_flow(w, inputs, activation) -> (T+1,)
# ---------------------------------------------------------------------------
def _act_grad(y, activation):
    return 1 - y ** 2 if activation == "tanh" else y * (1 - y)


def nonlinear_flow_student(w, inputs, activation="tanh", *, bug=None):
    y = cec.nonlinear_unit_forward(w, inputs, activation)
    T = len(y)
    if bug == "net":
        net = w * np.concatenate([[0.0], y[:-1]]) + inputs
        local = w * (1 - net ** 2)
    elif bug == "no_w":
        local = _act_grad(y, activation)
    elif bug == "prev":
        y_prev = np.concatenate([[0.0], y[:-1]])
        local = w * _act_grad(y_prev, activation)
    elif bug == "tanh_always":
        local = w * (1 - y ** 2)
    else:
        local = w * _act_grad(y, activation)
    factors = np.ones(T + 1)
    for k in range(1, T + 1):
        factors[k] = factors[k - 1] * (local[k - 1] if bug == "order" else local[T - k])
    return factors[1:] if bug == "short" else factors


def test_nonlinear_error_flow_reference_passes():
    assert run_check("nonlinear_error_flow", cec.nonlinear_error_flow).passed
    assert run_check("nonlinear_error_flow", nonlinear_flow_student).passed


@pytest.mark.parametrize("bug,words", [
    ("net", ["factors", "1 - net_t**2"]),
    ("no_w", ["factors", "forgot the factor w"]),
    ("order", ["factors", "wrong time order"]),
    ("prev", ["factors", "off by one"]),
    ("tanh_always", ["'sigmoid'", "other activation"]),
    ("short", ["factors", "T + 1 factors"]),
])
def test_nonlinear_error_flow_rejects_bugs(bug, words):
    res = run_check("nonlinear_error_flow", lambda w, u, a: nonlinear_flow_student(w, u, a, bug=bug))
    assert not res.passed
    text = " ".join(res.problems)
    for w in words:
        assert w in text, (w, text)


# ---------------------------------------------------------------------------
# predict_cec_factor: a dict of four answers
# ---------------------------------------------------------------------------
def predict_ref():
    f = cec.nonlinear_error_flow(1.0, np.full(200, 0.5), "tanh")
    return {"linear": cec.error_flow(1.02, 200)[200], "tanh": f[200], "tanh_step": f[1],
            "tanh_grows": False}


def test_predict_cec_factor_reference_passes():
    assert run_check("predict_cec_factor", predict_ref).passed
    # the closed forms a student may use by hand are accepted too
    y = 0.0
    for _ in range(200):
        y = np.tanh(y + 0.5)
    by_hand = dict(predict_ref(), linear=1.02 ** 200, tanh_step=1 - y ** 2)
    assert run_check("predict_cec_factor", lambda: by_hand).passed


@pytest.mark.parametrize("change,words", [
    (dict(linear=1.02 * 200), ["answer['linear']", "multiply, they do not add"]),
    (dict(linear=1.02 ** 199), ["answer['linear']", "off by one"]),
    (dict(tanh_grows=True), ["tanh_grows", "does NOT grow"]),
    (dict(tanh_step=1.0), ["tanh_step", "only at net = 0"]),
    (dict(tanh=1.0), ["answer['tanh']"]),
    (dict(tanh_grows="no"), ["True or False"]),
])
def test_predict_cec_factor_rejects_wrong_answers(change, words):
    answer = dict(predict_ref(), **change)
    res = run_check("predict_cec_factor", lambda: answer)
    assert not res.passed
    text = " ".join(res.problems)
    for w in words:
        assert w in text, (w, text)


def test_predict_cec_factor_missing_keys():
    res = run_check("predict_cec_factor", lambda: {"linear": 52.5})
    assert not res.passed and "missing" in res.problems[0]


# ---------------------------------------------------------------------------
# cec_w_for_one_percent: w_for_fraction(fraction, k)
# ---------------------------------------------------------------------------
def w_closed_form(fraction, k):
    return fraction ** (1.0 / k)


def w_bisection(fraction, k):
    lo, hi = 0.0, 1.0          # w = lo keeps too little, w = hi keeps enough
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if cec.error_flow(mid, k)[-1] >= fraction:
            hi = mid
        else:
            lo = mid
    return hi


def test_cec_w_for_one_percent_reference_passes():
    assert run_check("cec_w_for_one_percent", w_closed_form).passed
    assert run_check("cec_w_for_one_percent", w_bisection).passed
    assert abs(w_closed_form(0.01, 500) - 0.990832) < 1e-6


@pytest.mark.parametrize("fn,words", [
    (lambda f, k: 1 - f / k, ["not the smallest", "straight line"]),
    (lambda f, k: np.exp(np.log10(f) / k), ["not the smallest", "log10"]),
    (lambda f, k: f ** (1.0 / (k + 1)), ["not the smallest", "off by one", "fraction = 0.01, k = 500"]),
    (lambda f, k: f ** (1.0 / (k - 1)), ["too small", "off by one"]),
    (lambda f, k: 0.99, ["too small", "0.00657"]),
    (lambda f, k: 0.999, ["not the smallest"]),
    (lambda f, k: 1.0, ["not in (0, 1)"]),
    (lambda f, k: "0.99", ["return one number"]),
])
def test_cec_w_for_one_percent_rejects_bugs(fn, words):
    res = run_check("cec_w_for_one_percent", fn)
    assert not res.passed
    text = " ".join(res.problems)
    for w in words:
        assert w in text, (w, text)


def test_cec_backward_loop_forwards_in_time():
    """Issue 14: the recursion run from t = 1 upwards gets its own diagnosis."""
    def forwards(dy, cache):
        w, y0, y = cache
        delta, past = np.zeros(len(y)), 0.0
        for t in range(len(y)):                  # the bug: forwards in time
            delta[t] = dy[t] + past
            past = w * delta[t]
        return delta, float(np.dot(delta, np.concatenate([[y0], y[:-1]]))), float(w * delta[0])
    text = " ".join(run_check("cec_backward", forwards).problems)
    assert "dinputs" in text and "your loop runs forwards in time" in text
    assert "delta_{t+1}" in text
