import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from lstm_course.activations import (
    sigmoid, sigmoid_grad, sigmoid_grad_from_output, tanh, tanh_grad, softmax,
)
from lstm_course.gradcheck import eval_numerical_gradient_array, rel_error


def test_sigmoid_extremes_exact_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1000.0, 1000.0, -1e308, 1e308, -np.inf, np.inf]))
    assert s.tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]


def test_sigmoid_float32_extremes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1000.0, 0.0, 1000.0], dtype=np.float32))
    assert s.dtype == np.float32
    assert s.tolist() == [0.0, 0.5, 1.0]


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-30, 30)))
def test_sigmoid_matches_textbook_formula_where_that_is_safe(a):
    np.testing.assert_allclose(sigmoid(a), 1.0 / (1.0 + np.exp(-a)), rtol=1e-12, atol=1e-300)


def test_sigmoid_symmetry():
    a = np.linspace(-50, 50, 1001)
    np.testing.assert_allclose(sigmoid(a) + sigmoid(-a), 1.0, rtol=0, atol=1e-15)


def test_derivatives_match_numerical_and_bounds():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(20) * 1.5  # not deep in saturation: there f' ~ 0 and relative errors are noise
    df = np.ones_like(a)
    num_s = eval_numerical_gradient_array(lambda: sigmoid(a), a, df)
    num_t = eval_numerical_gradient_array(lambda: tanh(a), a, df)
    assert rel_error(num_s, sigmoid_grad(a)) < 1e-7
    assert rel_error(num_t, tanh_grad(a)) < 1e-7
    grid = np.linspace(-10, 10, 10001)
    assert sigmoid_grad(grid).max() == pytest.approx(0.25)
    assert tanh_grad(grid).max() == pytest.approx(1.0)
    np.testing.assert_allclose(sigmoid_grad_from_output(sigmoid(grid)), sigmoid_grad(grid))


def test_softmax_stable_and_normalised():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(np.array([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0]]))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], [0.5, 0.5, 0.0])
    e = np.exp([0.0, 1.0, 2.0])
    np.testing.assert_allclose(p[1], e / e.sum())
