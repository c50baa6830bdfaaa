"""Chapter 1 exercise checks: the reference passes, typical student bugs are rejected.

Each broken implementation below is a mistake students really make; the test asserts
that the check fails AND that its message names the right output (and, where the
check has one, gives the right hint).
"""
import numpy as np
import pytest

from lstm_course import char_rnn, rnn
from lstm_course.checks import available_checks, run_check

CH01_CHECKS = ("rnn_step_backward", "rnn_backward", "char_rnn_grad_shapes", "char_rnn_loss_fun")


def test_checks_registered():
    for name in CH01_CHECKS:
        assert name in available_checks()


def joined(result):
    return "\n".join(result.problems)


def assert_rejected(name, fn, *needles):
    result = run_check(name, fn)
    assert not result.passed, f"{name} accepted a broken implementation"
    text = joined(result)
    for needle in needles:
        assert needle in text, f"expected {needle!r} in the feedback:\n{text}"
    assert "def " not in text and "np." not in text, "feedback must not show code"
    return text


# ---------------------------------------------------------------------------
# rnn_step_backward
# ---------------------------------------------------------------------------
def _step_backward(dnext_h, cache, *, da_fn=None, dWh_T=False, dWx_T=False, db_nosum=False,
                   dprev_noT=False):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2) if da_fn is None else da_fn(dnext_h, next_h)
    dx = da @ Wx.T
    dprev_h = da @ (Wh if dprev_noT else Wh.T)
    dWx = (da.T @ x) if dWx_T else (x.T @ da)
    dWh = (da.T @ prev_h) if dWh_T else (prev_h.T @ da)
    db = da if db_nosum else da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_rnn_step_backward_reference_passes(seed):
    assert run_check("rnn_step_backward", rnn.rnn_step_backward, seed=seed).passed
    assert run_check("rnn_step_backward", _step_backward, seed=seed).passed


def test_rnn_step_backward_missing_tanh_derivative():
    text = assert_rejected("rnn_step_backward", lambda d, c: _step_backward(d, c, da_fn=lambda g, h: g),
                           "dx", "(1 - next_h**2)")
    assert "dWh" in text


def test_rnn_step_backward_tanh_derivative_without_square():
    assert_rejected("rnn_step_backward", lambda d, c: _step_backward(d, c, da_fn=lambda g, h: g * (1 - h)),
                    "dWx", "without the square")


def test_rnn_step_backward_tanh_applied_twice():
    assert_rejected("rnn_step_backward",
                    lambda d, c: _step_backward(d, c, da_fn=lambda g, h: g * (1 - np.tanh(h) ** 2)),
                    "dWh", "already tanh(a)")


def test_rnn_step_backward_transposed_dWx():
    assert_rejected("rnn_step_backward", lambda d, c: _step_backward(d, c, dWx_T=True),
                    "dWx", "transpose")


def test_rnn_step_backward_transposed_dWh_same_shape():
    text = assert_rejected("rnn_step_backward", lambda d, c: _step_backward(d, c, dWh_T=True),
                           "dWh", "transpose")
    assert "dWx" not in text


def test_rnn_step_backward_db_not_summed():
    assert_rejected("rnn_step_backward", lambda d, c: _step_backward(d, c, db_nosum=True),
                    "db", "summed over the batch")


def test_rnn_step_backward_dprev_h_without_transpose():
    text = assert_rejected("rnn_step_backward", lambda d, c: _step_backward(d, c, dprev_noT=True),
                           "dprev_h", "TRANSPOSE of Wh")
    assert "dWh" not in text


def test_rnn_step_backward_wrong_return():
    assert_rejected("rnn_step_backward", lambda d, c: _step_backward(d, c)[:4], "returned 4 values")
    assert_rejected("rnn_step_backward", lambda d, c: None, "returned None")


def test_rnn_step_backward_stub():
    def stub(d, c):
        raise NotImplementedError("your code here")
    assert_rejected("rnn_step_backward", stub, "not implemented")


# ---------------------------------------------------------------------------
# rnn_backward
# ---------------------------------------------------------------------------
def _rnn_backward(dh, cache, *, overwrite=False, no_dprev=False, forward=False, no_dh=False):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in (range(T) if forward else reversed(range(T))):
        up = dprev if no_dh else (dh[:, t] if no_dprev else dh[:, t] + dprev)
        dx[:, t], dprev, a, b_, c = rnn.rnn_step_backward(up, cache[t])
        if overwrite:
            dWx, dWh, db = a, b_, c
        else:
            dWx, dWh, db = dWx + a, dWh + b_, db + c
    return dx, dprev, dWx, dWh, db


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_rnn_backward_reference_passes(seed):
    assert run_check("rnn_backward", rnn.rnn_backward, seed=seed).passed
    assert run_check("rnn_backward", _rnn_backward, seed=seed).passed


def test_rnn_backward_not_accumulated():
    text = assert_rejected("rnn_backward", lambda d, c: _rnn_backward(d, c, overwrite=True),
                           "dWh", "add up (+=)")
    assert "dx" not in text.split(":")[0]


def test_rnn_backward_forgets_dprev_h():
    assert_rejected("rnn_backward", lambda d, c: _rnn_backward(d, c, no_dprev=True),
                    "dx", "flowing back from step t+1")


def test_rnn_backward_forgets_dh_t():
    assert_rejected("rnn_backward", lambda d, c: _rnn_backward(d, c, no_dh=True), "dx", "dh[:, t]")


def test_rnn_backward_forward_in_time():
    assert_rejected("rnn_backward", lambda d, c: _rnn_backward(d, c, forward=True), "backwards in time")


# ---------------------------------------------------------------------------
# char_rnn_grad_shapes
# ---------------------------------------------------------------------------
def _shapes(V, H):
    return {"dWxh": (H, V), "dWhh": (H, H), "dWhy": (V, H), "dbh": (H, 1), "dby": (V, 1),
            "dy": (V, 1), "dh": (H, 1), "dhraw": (H, 1), "dhnext": (H, 1)}


def test_grad_shapes_reference_passes():
    assert run_check("char_rnn_grad_shapes", _shapes).passed
    assert run_check("char_rnn_grad_shapes", lambda V, H: {k: list(v) for k, v in _shapes(V, H).items()}).passed


def test_grad_shapes_row_convention_rejected():
    def row(V, H):
        s = _shapes(V, H)
        s["dWxh"] = (V, H)  # the book's row convention, not min-char-rnn's
        s["dbh"] = (H,)
        return s
    text = assert_rejected("char_rnn_grad_shapes", row, "dWxh", "dbh", "column")
    assert "dWhh" not in text


def test_grad_shapes_hardcoded_rejected():
    assert_rejected("char_rnn_grad_shapes", lambda V, H: _shapes(7, 5), "dWxh", "V=65")


def test_grad_shapes_missing_keys():
    assert_rejected("char_rnn_grad_shapes",
                    lambda V, H: {k: v for k, v in _shapes(V, H).items() if k != "dhraw"},
                    "missing", "dhraw")
    assert_rejected("char_rnn_grad_shapes", lambda V, H: [(H, V)], "dict")


# ---------------------------------------------------------------------------
# char_rnn_loss_fun (the find-the-bug exercise)
# ---------------------------------------------------------------------------
def _loss_fun(inputs, targets, hprev, params, bug=None):
    Wxh, Whh, Why, bh, by = (params[k] for k in ("Wxh", "Whh", "Why", "bh", "by"))
    V = Wxh.shape[1]
    xs, hs, ps = {}, {-1: np.copy(hprev)}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((V, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        y = Why @ hs[t] + by
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        if bug != "no_minus_one":
            dy[targets[t]] -= 1
        if bug == "reset":
            dWhh = np.zeros_like(Whh)
        dWhy += dy @ (hs[t - 1] if bug == "why_prev" else hs[t]).T
        dby += dy
        dh = Why.T @ dy + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ (hs[t] if bug == "hs_t" else hs[t - 1]).T
        dhnext = (Whh if bug == "no_transpose" else Whh.T) @ dhraw
    if bug == "dy_sign":
        dWhy, dby = -dWhy, -dby
    grads = {"dWxh": dWxh, "dWhh": dWhh, "dWhy": dWhy, "dbh": dbh, "dby": dby}
    return loss, grads, hs[len(inputs) - 1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_fun_reference_passes(seed):
    assert run_check("char_rnn_loss_fun", char_rnn.loss_fun, seed=seed).passed
    assert run_check("char_rnn_loss_fun", _loss_fun, seed=seed).passed


def test_loss_fun_the_exercise_bugs_rejected():
    # the buggy loop of the exercise has both of these
    def both(i, t, h, p):
        loss, g, hl = _loss_fun(i, t, h, p, bug="no_transpose")
        g["dWhh"] = _loss_fun(i, t, h, p, bug="hs_t")[1]["dWhh"]
        return loss, g, hl
    assert_rejected("char_rnn_loss_fun", both, "dWhh")


def test_loss_fun_no_transpose():
    text = assert_rejected("char_rnn_loss_fun", lambda *a: _loss_fun(*a, bug="no_transpose"),
                           "dWxh", "TRANSPOSE")
    assert "dWhy" not in text


def test_loss_fun_hs_t():
    text = assert_rejected("char_rnn_loss_fun", lambda *a: _loss_fun(*a, bug="hs_t"), "dWhh", "PREVIOUS")
    assert "dWxh" not in text


def test_loss_fun_reset():
    assert_rejected("char_rnn_loss_fun", lambda *a: _loss_fun(*a, bug="reset"), "dWhh", "added up")


def test_loss_fun_wrong_sign_of_initial_error():
    assert_rejected("char_rnn_loss_fun", lambda *a: _loss_fun(*a, bug="dy_sign"), "dWhy", "dby")


def test_loss_fun_modifies_params():
    def clipping(i, t, h, p):
        out = char_rnn.loss_fun(i, t, h, p)
        for v in p.values():
            v *= 0.5
        return out
    assert_rejected("char_rnn_loss_fun", clipping, "in place")


def test_loss_fun_wrong_loss():
    def mean_loss(i, t, h, p):
        loss, g, hl = char_rnn.loss_fun(i, t, h, p)
        return loss / len(i), g, hl
    assert_rejected("char_rnn_loss_fun", mean_loss, "loss", "summed over time")


# ---------------------------------------------------------------------------
# issue 14: every classic bug gets its named diagnosis
# ---------------------------------------------------------------------------
def test_loss_fun_softmax_gradient_without_minus_one():
    assert_rejected("char_rnn_loss_fun", lambda *a: _loss_fun(*a, bug="no_minus_one"),
                    "dWhy", "missing the -1 at the target")


def test_loss_fun_dwhy_with_previous_state():
    text = assert_rejected("char_rnn_loss_fun", lambda *a: _loss_fun(*a, bug="why_prev"),
                           "dWhy", "hidden state of the SAME step")
    assert "dWxh" not in text and "dWhh" not in text


def _student_step(bug=None):
    def rnn_step_backward(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h * (1 - next_h ** 2)
        dWh = (next_h if bug == "dWh_h_t" else prev_h).T @ da
        db = da.mean(axis=0) if bug == "db_mean" else da.sum(axis=0)
        return da @ Wx.T, da @ Wh.T, x.T @ da, dWh, db
    return rnn_step_backward


def test_rnn_step_backward_dwh_with_h_t():
    text = assert_rejected("rnn_step_backward", _student_step("dWh_h_t"), "dWh", "dWh uses h_t",
                           "PREVIOUS hidden state")
    assert "dx" not in text and "db" not in text


def test_rnn_step_backward_db_mean():
    assert_rejected("rnn_step_backward", _student_step("db_mean"), "db", "MEAN of da over the batch")


def _student_backward(mode=None, step=rnn.rnn_step_backward):
    def rnn_backward(dh, cache):
        N, T, H = dh.shape
        D = cache[0][0].shape[1]
        dx = np.zeros((N, T, D))
        dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
        dprev, late = np.zeros((N, H)), np.zeros((N, H))
        for t in reversed(range(T)):
            step_cache = cache[t - 1] if mode == "cache_t_minus_1" else cache[t]
            dh_t = dh[:, t - 1] if mode == "dh_t_minus_1" else dh[:, t]
            dx[:, t], new, dWx_t, dWh_t, db_t = step(dh_t + dprev, step_cache)
            if mode == "carry_delayed":
                dprev, late = late, new
            else:
                dprev = new
            if mode == "last_step_only" and t != T - 1:
                continue
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        if mode == "db_mean":
            db = db / T
        return dx, dprev + dh[:, 0] if mode == "dh0_plus_dh0" else dprev, dWx, dWh, db
    return rnn_backward


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_student_style_rnn_backward_passes(seed):
    assert run_check("rnn_backward", _student_backward(), seed=seed).passed


@pytest.mark.parametrize("mode, needles", [
    ("cache_t_minus_1", ["off by one step", "cache[t], not cache[t-1]"]),
    ("dh_t_minus_1", ["off by one step", "not dh[:, t-1]"]),
    ("carry_delayed", ["off by one step", "the carry is a step late"]),
    ("last_step_only", ["dWx, dWh, db: each equals the contribution of step t = 3 alone",
                        "add up (+=)"]),
    ("db_mean", ["db is exactly 1/T = 1/4 of the right value"]),
    ("dh0_plus_dh0", ["dh0 is only what step 0 sends back"]),
])
def test_rnn_backward_names_each_classic_loop_bug(mode, needles):
    assert_rejected("rnn_backward", _student_backward(mode), *needles)


def test_rnn_backward_dwh_with_h_t_in_the_loop():
    text = assert_rejected("rnn_backward", _student_backward(step=_student_step("dWh_h_t")),
                           "dWh", "computes dWh with h_t")
    assert "dx" not in text and "db" not in text


def test_rnn_backward_with_a_wrong_step_says_fix_exercise_1():
    namespace = {"np": np, "rnn_step_backward": _student_step("dWh_h_t")}
    exec("def rnn_backward(dh, cache):\n"
         "    N, T, H = dh.shape\n"
         "    dx = np.zeros((N, T, cache[0][0].shape[1]))\n"
         "    dWx = dWh = db = 0\n"
         "    dprev = np.zeros((N, H))\n"
         "    for t in reversed(range(T)):\n"
         "        dx[:, t], dprev, a, b, c = rnn_step_backward(dh[:, t] + dprev, cache[t])\n"
         "        dWx, dWh, db = dWx + a, dWh + b, db + c\n"
         "    return dx, dprev, dWx, dWh, db\n", namespace)
    result = run_check("rnn_backward", namespace["rnn_backward"])
    assert result.problems[0].startswith("your step backward is wrong: fix Exercise 1.1 first")
    assert "your loop is right" in result.problems[0]
    namespace["rnn_step_backward"] = rnn.rnn_step_backward
    assert run_check("rnn_backward", namespace["rnn_backward"]).passed


def test_rnn_backward_unknown_bug_shows_the_error_map():
    def leaky(dnext_h, cache):                    # not a classic bug: the carry is damped
        out = rnn.rnn_step_backward(dnext_h, cache)
        return (out[0], 0.5 * out[1]) + tuple(out[2:])
    text = assert_rejected("rnn_backward", _student_backward(step=leaky),
                           "error map of the da that your dx implies",
                           "right at the last step t = T-1 and wrong at every step before it")
    assert "    ·" in text.splitlines()[-1]
