import numpy as np
import pytest

from lstm_course.gradcheck import (
    eval_numerical_gradient, eval_numerical_gradient_array, rel_error, grad_check,
)


def test_numerical_gradient_of_known_function():
    x = np.array([1.0, -2.0, 0.5])
    g = eval_numerical_gradient(lambda: np.sum(x ** 3), x)
    np.testing.assert_allclose(g, 3 * np.array([1.0, 4.0, 0.25]), rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])  # restored


def test_numerical_gradient_array_uses_upstream():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2))
    W = rng.standard_normal((2, 4))
    df = rng.standard_normal((3, 4))
    g = eval_numerical_gradient_array(lambda: x @ W, x, df)
    np.testing.assert_allclose(g, df @ W.T, rtol=1e-7)


def test_rel_error_detects_difference_and_shape_mismatch():
    a = np.array([1.0, 2.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(a, a * 1.01) > 1e-3
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        rel_error(a, np.ones(3))


def test_grad_check_flags_a_wrong_gradient():
    x = np.array([0.3, -0.7])
    right = grad_check(lambda: np.sum(np.sin(x)), {"x": x}, {"x": np.cos(x)})
    wrong = grad_check(lambda: np.sum(np.sin(x)), {"x": x}, {"x": -np.cos(x)})
    assert right["x"] < 1e-8
    assert wrong["x"] > 0.5
