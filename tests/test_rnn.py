"""Tests for lstm_course.rnn: gradient checks, BPTT as a sum of steps, validation, dtypes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lstm_course.char_rnn import loss_fun
from lstm_course.gradcheck import rel_error
from lstm_course.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

TOL = 1e-7
small = st.integers(min_value=1, max_value=4)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
fast = settings(max_examples=10, deadline=None, derandomize=True)


def _step_inputs(rng, N, D, H, dtype=np.float64):
    """x (N, D), h (N, H), Wx (D, H), Wh (H, H), b (H,): weights ~ N(0, 1/fan_in), so tanh is not saturated."""
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, H)) / np.sqrt(H)
    b = 0.1 * rng.standard_normal(H)
    return [a.astype(dtype) for a in (x, h, Wx, Wh, b)]


@fast
@given(N=small, D=small, H=small, seed=seeds)
def test_step_backward_matches_numerical_gradient(N, D, H, seed, grad_error):
    rng = np.random.default_rng(seed)
    args = _step_inputs(rng, N, D, H)
    dnext_h = rng.standard_normal((N, H))
    _, cache = rnn_step_forward(*args)
    analytic = rnn_step_backward(dnext_h, cache)  # dx, dprev_h, dWx, dWh, db

    for k, name in enumerate(["x", "prev_h", "Wx", "Wh", "b"]):
        assert analytic[k].shape == args[k].shape, name
        assert grad_error(lambda: rnn_step_forward(*args)[0], args[k], analytic[k], dnext_h) < TOL, name


@fast
@given(N=small, T=small, D=small, H=small, seed=seeds)
def test_rnn_backward_matches_numerical_gradient(N, T, D, H, seed, grad_error):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    h0, Wx, Wh, b = _step_inputs(rng, N, D, H)[1:]
    args = [x, h0, Wx, Wh, b]
    dh = rng.standard_normal((N, T, H))
    _, cache = rnn_forward(*args)
    analytic = rnn_backward(dh, cache)  # dx, dh0, dWx, dWh, db

    for k, name in enumerate(["x", "h0", "Wx", "Wh", "b"]):
        assert analytic[k].shape == args[k].shape, name
        assert grad_error(lambda: rnn_forward(*args)[0], args[k], analytic[k], dh) < TOL, name


def test_rnn_forward_is_a_loop_of_steps():
    rng = np.random.default_rng(0)
    N, T, D, H = 3, 5, 4, 6
    x = rng.standard_normal((N, T, D))
    h0, Wx, Wh, b = _step_inputs(rng, N, D, H)[1:]
    h, _ = rnn_forward(x, h0, Wx, Wh, b)
    prev_h = h0
    for t in range(T):
        prev_h = np.tanh(x[:, t] @ Wx + prev_h @ Wh + b)  # the formula, written out
        np.testing.assert_allclose(h[:, t], prev_h, rtol=1e-12, atol=1e-14)


def test_rnn_backward_is_the_sum_of_step_backwards():
    """Weight gradients of BPTT = sum over t of the step gradients (shared weights)."""
    rng = np.random.default_rng(1)
    N, T, D, H = 2, 6, 3, 4
    x = rng.standard_normal((N, T, D))
    h0, Wx, Wh, b = _step_inputs(rng, N, D, H)[1:]
    dh = rng.standard_normal((N, T, H))
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)

    # The same computation by hand, step by step, from the step caches.
    step_caches = []
    prev_h = h0
    for t in range(T):
        prev_h, c = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        step_caches.append(c)
    sums = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev, *dW = rnn_step_backward(dh[:, t] + dprev, step_caches[t])
        np.testing.assert_allclose(dx[:, t], dx_t, rtol=1e-12, atol=1e-14)
        for s, d in zip(sums, dW):
            s += d
    np.testing.assert_allclose(dh0, dprev, rtol=1e-12, atol=1e-14)
    for got, want in zip((dWx, dWh, db), sums):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # ...and it is not just the last step's contribution.
    assert rel_error(dWh, rnn_step_backward(dh[:, -1], step_caches[-1])[3]) > 1e-3


def test_rnn_forward_equals_min_char_rnn_hidden_states():
    """Row-vector Wx, Wh, b are min-char-rnn's Wxh.T, Whh.T, bh.ravel()."""
    rng = np.random.default_rng(2)
    V, H, T = 5, 4, 7
    params = {
        "Wxh": rng.standard_normal((H, V)) * 0.5,
        "Whh": rng.standard_normal((H, H)) * 0.5,
        "Why": rng.standard_normal((V, H)),
        "bh": rng.standard_normal((H, 1)),
        "by": rng.standard_normal((V, 1)),
    }
    inputs = list(rng.integers(0, V, T))
    hprev = rng.standard_normal((H, 1))
    _, _, h_last = loss_fun(inputs, inputs, hprev, params)

    x = np.eye(V)[inputs][None]  # (1, T, V) one-hot
    h, _ = rnn_forward(x, hprev.T, params["Wxh"].T, params["Whh"].T, params["bh"].ravel())
    np.testing.assert_allclose(h[0, -1], h_last.ravel(), rtol=1e-12, atol=1e-14)


def test_gradient_vanishes_backward_in_time_for_small_weights():
    """With small recurrent weights the error reaching h0 from the last step shrinks."""
    rng = np.random.default_rng(3)
    N, T, D, H = 1, 20, 2, 3
    x = rng.standard_normal((N, T, D))
    Wx, Wh, b = rng.standard_normal((D, H)), 0.1 * rng.standard_normal((H, H)), np.zeros(H)
    dh = np.zeros((N, T, H))
    dh[:, -1] = 1.0
    _, cache = rnn_forward(x, np.zeros((N, H)), Wx, Wh, b)
    _, dh0, *_ = rnn_backward(dh, cache)
    assert np.abs(dh0).max() < 1e-10


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    rng = np.random.default_rng(4)
    N, T, D, H = 2, 3, 4, 5
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0, Wx, Wh, b = _step_inputs(rng, N, D, H, dtype)[1:]
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    assert h.dtype == dtype
    for g in rnn_backward(np.ones_like(h), cache):
        assert g.dtype == dtype
    next_h, cache = rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    assert next_h.dtype == dtype
    for g in rnn_step_backward(np.ones_like(next_h), cache):
        assert g.dtype == dtype


def test_float32_close_to_float64():
    rng = np.random.default_rng(5)
    N, T, D, H = 2, 4, 3, 5
    x = rng.standard_normal((N, T, D))
    h0, Wx, Wh, b = _step_inputs(rng, N, D, H)[1:]
    h64, _ = rnn_forward(x, h0, Wx, Wh, b)
    h32, _ = rnn_forward(*(a.astype(np.float32) for a in (x, h0, Wx, Wh, b)))
    np.testing.assert_allclose(h32, h64, atol=1e-5)


@pytest.mark.parametrize(
    "which, bad, pattern",
    [
        ("x", np.zeros((2, 3)), r"x has shape \(2, 3\) but expected 3 dimensions \(N, T, D\)"),
        ("h0", np.zeros((2, 4)), r"h0 has shape \(2, 4\) but expected \(N, H\) = \(2, 5\)"),
        ("Wx", np.zeros((3, 5)), r"Wx has shape \(3, 5\) but expected \(D, H\) = \(4, 5\)"),
        ("Wh", np.zeros((5, 4)), r"Wh has shape \(5, 4\) but expected \(H, H\) = \(5, 5\)"),
        ("b", np.zeros((1, 5)), r"b has shape \(1, 5\) but expected \(H,\) = \(5,\)"),
        ("x", np.zeros((2, 3, 4), dtype=int), r"x must be a floating-point array"),
    ],
)
def test_rnn_forward_validation_names_argument_and_shapes(which, bad, pattern):
    N, T, D, H = 2, 3, 4, 5
    args = {"x": np.zeros((N, T, D)), "h0": np.zeros((N, H)), "Wx": np.zeros((D, H)),
            "Wh": np.zeros((H, H)), "b": np.zeros(H)}
    args[which] = bad
    with pytest.raises(ValueError, match=pattern):
        rnn_forward(**args)


def test_step_validation_and_backward_validation():
    N, D, H = 2, 3, 4
    with pytest.raises(ValueError, match=r"prev_h has shape \(2, 3\) but expected \(N, H\) = \(2, 4\)"):
        rnn_step_forward(np.zeros((N, D)), np.zeros((N, 3)), np.zeros((D, H)), np.zeros((H, H)), np.zeros(H))
    h, cache = rnn_forward(np.zeros((N, 5, D)), np.zeros((N, H)), np.zeros((D, H)), np.zeros((H, H)), np.zeros(H))
    with pytest.raises(ValueError, match=r"dh has shape \(2, 4, 4\) but expected \(N, T, H\) = \(2, 5, 4\)"):
        rnn_backward(np.zeros((N, 4, H)), cache)
    _, cache = rnn_step_forward(np.zeros((N, D)), np.zeros((N, H)), np.zeros((D, H)), np.zeros((H, H)), np.zeros(H))
    with pytest.raises(ValueError, match=r"dnext_h has shape \(4, 2\) but expected \(N, H\) = \(2, 4\)"):
        rnn_step_backward(np.zeros((H, N)), cache)
    with pytest.raises(ValueError, match=r"x has shape \(2, 0, 3\)"):
        rnn_forward(np.zeros((N, 0, D)), np.zeros((N, H)), np.zeros((D, H)), np.zeros((H, H)), np.zeros(H))
