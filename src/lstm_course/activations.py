"""Activation functions and their derivatives.

``sigmoid`` squashes to (0, 1) and is used by the gates; ``tanh`` squashes to
(-1, 1) and is used for the candidate g and for the cell output tanh(c).

The derivatives are written in terms of the *outputs*, because that is what the
backward passes have cached::

    sigmoid'(a) = s * (1 - s)      where s = sigmoid(a)   -> at most 1/4 (at a = 0)
    tanh'(a)    = 1 - t**2         where t = tanh(a)      -> at most 1   (at a = 0)

Chapter 2 uses these bounds to explain vanishing gradients.
"""
import numpy as np

__all__ = [
    "sigmoid",
    "sigmoid_grad",
    "sigmoid_grad_from_output",
    "tanh",
    "tanh_grad",
    "tanh_grad_from_output",
    "softmax",
]


def sigmoid(a):
    """Numerically stable logistic sigmoid, 1 / (1 + exp(-a)), elementwise.

    The naive formula overflows in ``exp(-a)`` for a large negative ``a``
    (``exp(1000)`` is ``inf`` and numpy warns). We never exponentiate a positive
    number: for a >= 0 use 1 / (1 + exp(-a)); for a < 0 use exp(a) / (1 + exp(a)).
    Both are the same function; each only ever computes exp of a value <= 0.

    sigmoid(1000) == 1.0 and sigmoid(-1000) == 0.0 exactly, with no warning.
    Returns an array of the same shape and floating dtype as ``a``.
    """
    a = np.asarray(a)
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    z = np.exp(-np.abs(a))  # in (0, 1]: never overflows
    return np.where(a >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(a.dtype, copy=False)


def sigmoid_grad_from_output(s):
    """Derivative of the sigmoid given its output s = sigmoid(a): s * (1 - s)."""
    return s * (1.0 - s)


def sigmoid_grad(a):
    """Derivative of the sigmoid at ``a``: sigmoid(a) * (1 - sigmoid(a)) <= 1/4."""
    return sigmoid_grad_from_output(sigmoid(a))


def tanh(a):
    """Hyperbolic tangent (numpy's ``np.tanh``, stable for any float)."""
    return np.tanh(a)


def tanh_grad_from_output(t):
    """Derivative of tanh given its output t = tanh(a): 1 - t**2."""
    return 1.0 - t * t


def tanh_grad(a):
    """Derivative of tanh at ``a``: 1 - tanh(a)**2 <= 1."""
    return tanh_grad_from_output(np.tanh(a))


def softmax(scores, axis=-1):
    """Softmax along ``axis``, shifted by the maximum so exp never overflows.

    ``scores`` of any shape; the result has the same shape and sums to 1 along
    ``axis``.
    """
    scores = np.asarray(scores, dtype=float) if np.asarray(scores).dtype.kind != "f" else np.asarray(scores)
    shifted = scores - np.max(scores, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
