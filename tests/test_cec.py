"""Tests for lstm_course.cec: the constant error carousel."""
import numpy as np
import pytest

from lstm_course.activations import sigmoid
from lstm_course.cec import (
    error_flow,
    linear_unit_backward,
    linear_unit_forward,
    nonlinear_error_flow,
    nonlinear_unit_forward,
)
from lstm_course.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error


def test_w1_error_flow_is_exactly_one_over_1000_steps():
    factors = error_flow(1.0, 1000)
    assert factors.shape == (1001,)
    assert np.all(factors == 1.0)
    assert np.all(error_flow(1, 1000) == 1.0)  # an int weight is fine


def test_w09_error_flow_decays_geometrically():
    factors = error_flow(0.9, 200)
    k = np.arange(201)
    np.testing.assert_allclose(factors, 0.9 ** k, rtol=1e-12)
    assert factors[100] < 3e-5
    assert np.all(np.diff(factors) < 0)


def test_w11_error_flow_grows():
    factors = error_flow(1.1, 100)
    np.testing.assert_allclose(factors[[0, 1, 2, 100]], [1.0, 1.1, 1.21, 13780.61233982], rtol=1e-9)
    assert np.all(np.diff(factors) > 0)


def test_error_flow_zero_steps():
    np.testing.assert_array_equal(error_flow(0.5, 0), [1.0])


@pytest.mark.parametrize("activation,bound", [("tanh", 1.0), ("sigmoid", 0.25)])
def test_nonlinear_unit_error_decays(activation, bound):
    rng = np.random.default_rng(0)
    u = rng.standard_normal(60)
    w = 1.0
    factors = nonlinear_error_flow(w, u, activation=activation)
    assert factors.shape == (61,) and factors[0] == 1.0
    # each step back multiplies by w * act'(net) <= w * bound
    ratios = factors[1:] / factors[:-1]
    assert np.all(np.abs(ratios) <= w * bound + 1e-15)
    assert np.all(np.diff(np.abs(factors)) <= 0) and abs(factors[-1]) < 1e-3
    # compare with the linear CEC, which does not decay
    assert np.all(error_flow(w, 60) == 1.0)


def test_nonlinear_error_flow_matches_the_trajectory_by_hand():
    u = np.array([0.5, -1.0, 2.0])
    w, y0 = 0.7, 0.3
    net1 = w * y0 + u[0]
    y1 = np.tanh(net1)
    net2 = w * y1 + u[1]
    y2 = np.tanh(net2)
    net3 = w * y2 + u[2]
    np.testing.assert_allclose(nonlinear_unit_forward(w, u, "tanh", y0), [y1, y2, np.tanh(net3)], rtol=1e-15)
    d = [w * (1 - np.tanh(n) ** 2) for n in (net1, net2, net3)]
    np.testing.assert_allclose(nonlinear_error_flow(w, u, "tanh", y0),
                               [1, d[2], d[2] * d[1], d[2] * d[1] * d[0]], rtol=1e-13)
    s = sigmoid(w * y0 + u[0])
    np.testing.assert_allclose(nonlinear_error_flow(w, u[:1], "sigmoid", y0), [1, w * s * (1 - s)], rtol=1e-13)


def test_nonlinear_error_flow_is_the_true_derivative():
    """factors[k] = dy_T/dy_{T-k}: check k = T (w.r.t. y0) numerically."""
    u = np.array([0.2, -0.4, 0.1, 0.3])
    for act in ("tanh", "sigmoid"):
        y0 = np.array([0.1])

        def y_T():
            return nonlinear_unit_forward(1.5, u, act, float(y0[0]))[-1]

        num = eval_numerical_gradient(y_T, y0)
        assert rel_error(num, np.array([nonlinear_error_flow(1.5, u, act, 0.1)[-1]])) < 1e-8


def test_linear_unit_with_w1_never_forgets():
    y, _ = linear_unit_forward(1.0, np.ones(1000))
    np.testing.assert_array_equal(y, np.arange(1, 1001))  # grows without bound
    y, _ = linear_unit_forward(0.9, np.ones(1000))
    assert y[-1] < 10.0 + 1e-9  # a leaky unit settles at 1 / (1 - w)


def test_linear_unit_carries_the_error_back_unchanged():
    T = 500
    dy = np.zeros(T)
    dy[-1] = 1.0  # an error at the last step only
    _, cache = linear_unit_forward(1.0, np.random.default_rng(1).standard_normal(T))
    dinputs, _, dy0 = linear_unit_backward(dy, cache)
    assert np.all(dinputs == 1.0) and dy0 == 1.0
    _, cache = linear_unit_forward(0.9, np.zeros(T))
    dinputs, _, dy0 = linear_unit_backward(dy, cache)
    np.testing.assert_allclose(dinputs, 0.9 ** np.arange(T)[::-1], rtol=1e-12)


@pytest.mark.parametrize("w", [1.0, 0.8, -1.3])
def test_linear_unit_backward_matches_numerical_gradients(w):
    rng = np.random.default_rng(2)
    T = 7
    u = rng.standard_normal(T)
    dy = rng.standard_normal(T)
    y0 = 0.4
    _, cache = linear_unit_forward(w, u, y0)
    dinputs, dw, dy0 = linear_unit_backward(dy, cache)

    num_u = eval_numerical_gradient_array(lambda: linear_unit_forward(w, u, y0)[0], u, dy)
    assert rel_error(dinputs, num_u) < 1e-8
    wv, y0v = np.array([w]), np.array([y0])
    num_w = eval_numerical_gradient_array(lambda: linear_unit_forward(float(wv[0]), u, y0)[0], wv, dy)
    num_y0 = eval_numerical_gradient_array(lambda: linear_unit_forward(w, u, float(y0v[0]))[0], y0v, dy)
    assert rel_error(np.array([dw]), num_w) < 1e-8
    assert rel_error(np.array([dy0]), num_y0) < 1e-8


def test_float32_is_preserved():
    y, cache = linear_unit_forward(1.0, np.ones(5, dtype=np.float32))
    assert y.dtype == np.float32
    assert linear_unit_backward(np.ones(5, dtype=np.float32), cache)[0].dtype == np.float32
    assert nonlinear_unit_forward(0.5, np.ones(5, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("call,match", [
    (lambda: error_flow(1.0, -1), "T must be a non-negative integer"),
    (lambda: error_flow(1.0, 2.5), "T must be a non-negative integer"),
    (lambda: error_flow("1", 3), "w must be a real number"),
    (lambda: error_flow(np.inf, 3), "w must be finite"),
    (lambda: error_flow(True, 3), "w must be a real number"),
    (lambda: nonlinear_error_flow(1.0, np.ones(3), activation="relu"), "activation must be one of"),
    (lambda: nonlinear_error_flow(1.0, np.ones((2, 3))), r"inputs has shape \(2, 3\) but expected 1 dimensions \(T,\)"),
    (lambda: nonlinear_unit_forward(1.0, np.ones(3, dtype=int)), "inputs must be a floating-point array"),
    (lambda: linear_unit_forward(1.0, np.ones((3, 1))), r"inputs has shape \(3, 1\) but expected 1 dimensions \(T,\)"),
    (lambda: linear_unit_forward(1.0, np.arange(3)), "inputs must be a floating-point array"),
    (lambda: linear_unit_forward(1.0, np.ones(3), y0=None), "y0 must be a real number"),
    (lambda: linear_unit_backward(np.ones(4), linear_unit_forward(1.0, np.ones(3))[1]),
     r"dy has shape \(4,\) but expected \(T,\) = \(3,\)"),
])
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()
