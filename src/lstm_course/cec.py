"""The constant error carousel (CEC): chapter 3.

Take a single unit connected to itself with weight w. With a *linear*
activation it simply accumulates its input::

    y_t = w * y_{t-1} + u_t          t = 1 ... T,   y_0 given

Backpropagating through it, every step back in time multiplies the error by
the same factor::

    dy_t / dy_{t-1} = w      so      dy_T / dy_{T-k} = w ** k

* w < 1: the error vanishes exponentially (0.9 ** 100 ~ 3e-5);
* w > 1: it explodes (1.1 ** 100 ~ 1.4e4);
* w = 1: it is carried back *unchanged* over any number of steps. This is
  Hochreiter & Schmidhuber's constant error carousel, the heart of the LSTM
  cell state (with a forget gate, dc_t/dc_{t-1} = f_t, and f_t = 1 is the CEC).

A nonlinear unit y_t = act(w * y_{t-1} + u_t) multiplies the error by
w * act'(net_t) at every step, with net_t = w * y_{t-1} + u_t. Since
tanh' <= 1 and sigmoid' <= 1/4, the factor is usually below 1 and the error
vanishes; keeping it at exactly 1 would need act'(net_t) = 1 / w at every
step, which only a linear act achieves.

The price of w = 1: the unit never forgets. On a stream of positive inputs its
state grows without bound (``linear_unit_forward(1.0, np.ones(1000))`` ends at
1000). This, and the input/output weight conflicts, motivate the gates of
chapter 4.

Functions
---------
error_flow(w, T)                          w ** k for k = 0 ... T
nonlinear_unit_forward(w, inputs, ...)    trajectory of y_t = act(w y_{t-1} + u_t)
nonlinear_error_flow(w, inputs, ...)      dy_T / dy_{T-k} along that trajectory
linear_unit_forward(w, inputs, y0)        y_t = w y_{t-1} + u_t, with a cache
linear_unit_backward(dy, cache)           gradients w.r.t. inputs, w and y0
"""
import numbers

import numpy as np

from ._validate import check_ndim
from .activations import sigmoid, sigmoid_grad_from_output, tanh, tanh_grad_from_output

__all__ = [
    "error_flow",
    "nonlinear_unit_forward",
    "nonlinear_error_flow",
    "linear_unit_forward",
    "linear_unit_backward",
]

_ACTIVATIONS = {
    # name: (function, derivative written in terms of the output)
    "tanh": (tanh, tanh_grad_from_output),
    "sigmoid": (sigmoid, sigmoid_grad_from_output),
}


def _check_scalar(name, value):
    """A real, finite number (int or float, not bool) -> float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _check_activation(activation):
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
        )
    return _ACTIVATIONS[activation]


def error_flow(w, T):
    """Error-flow factors of the linear self-connected unit.

    Parameters
    ----------
    w : float      the self-connection weight
    T : int >= 0   how many steps back to go

    Returns
    -------
    factors : (T + 1,) float64, ``factors[k] = dy_T / dy_{T-k} = w ** k``.
        ``factors[0] = 1`` (no step back). For w = 1 every entry is exactly 1:
        the error is carried back unchanged.

    Computed the way backpropagation computes it, one step back at a time
    (multiply by w), not with a closed formula.
    """
    w = _check_scalar("w", w)
    if isinstance(T, bool) or not isinstance(T, numbers.Integral) or T < 0:
        raise ValueError(f"T must be a non-negative integer, got {T!r}")
    factors = np.empty(int(T) + 1)
    factors[0] = 1.0
    for k in range(1, int(T) + 1):
        factors[k] = factors[k - 1] * w   # one more step back: times dy_t/dy_{t-1} = w
    return factors


def nonlinear_unit_forward(w, inputs, activation="tanh", y0=0.0):
    """Run the nonlinear self-connected unit y_t = act(w * y_{t-1} + u_t).

    Parameters
    ----------
    w : float
    inputs : (T,) float array   the external inputs u_1 ... u_T
    activation : "tanh" or "sigmoid"
    y0 : float                  the initial state

    Returns
    -------
    y : (T,)  the states y_1 ... y_T
    """
    w = _check_scalar("w", w)
    y0 = _check_scalar("y0", y0)
    inputs = check_ndim("inputs", inputs, 1, "(T,)")
    act, _ = _check_activation(activation)
    y = np.empty(inputs.shape, dtype=inputs.dtype)
    prev = y0
    for t in range(inputs.shape[0]):
        prev = y[t] = act(w * prev + inputs[t])
    return y


def nonlinear_error_flow(w, inputs, activation="tanh", y0=0.0):
    """Error-flow factors of a nonlinear self-connected unit along its trajectory.

    For y_t = act(net_t), net_t = w * y_{t-1} + u_t, one step back multiplies
    the error by dy_t / dy_{t-1} = w * act'(net_t), so::

        dy_T / dy_{T-k} = prod_{s = T-k+1}^{T}  w * act'(net_s)

    Parameters
    ----------
    w : float
    inputs : (T,) float array   the inputs u_1 ... u_T that fix the trajectory
    activation : "tanh" (act' <= 1) or "sigmoid" (act' <= 1/4)
    y0 : float                  the initial state

    Returns
    -------
    factors : (T + 1,) ``factors[k] = dy_T / dy_{T-k}`` for k = 0 ... T
        (``factors[0] = 1``), comparable with ``error_flow(w, T)``.
    """
    y = nonlinear_unit_forward(w, inputs, activation, y0)
    _, act_grad = _check_activation(activation)
    T = y.shape[0]
    local = w * act_grad(y)              # dy_t / dy_{t-1} for t = 1 ... T
    factors = np.empty(T + 1, dtype=np.result_type(y, np.float64))
    factors[0] = 1.0
    for k in range(1, T + 1):
        factors[k] = factors[k - 1] * local[T - k]   # one more step back
    return factors


def linear_unit_forward(w, inputs, y0=0.0):
    """Forward pass of the linear self-connected unit y_t = w * y_{t-1} + u_t.

    Parameters
    ----------
    w : float                   the self-connection weight (w = 1: the CEC)
    inputs : (T,) float array   u_1 ... u_T
    y0 : float                  the initial state

    Returns
    -------
    y : (T,)        y_1 ... y_T (same dtype as ``inputs``)
    cache : tuple   for ``linear_unit_backward``
    """
    w = _check_scalar("w", w)
    y0 = _check_scalar("y0", y0)
    inputs = check_ndim("inputs", inputs, 1, "(T,)")
    y = np.empty(inputs.shape, dtype=inputs.dtype)
    prev = y0
    for t in range(inputs.shape[0]):
        prev = y[t] = w * prev + inputs[t]
    cache = (w, y0, y)
    return y, cache


def linear_unit_backward(dy, cache):
    """Backward pass of the linear self-connected unit (BPTT by hand).

    Parameters
    ----------
    dy : (T,)     gradient of the loss w.r.t. each y_t
    cache : from ``linear_unit_forward``

    Returns
    -------
    dinputs : (T,)   dL/du_t
    dw : float       dL/dw = sum_t delta_t * y_{t-1}
    dy0 : float      dL/dy_0

    The error reaching y_t is delta_t = dy_t + w * delta_{t+1}: each step back
    multiplies what comes from the future by w. With w = 1 an error injected
    at the last step arrives at the first step unchanged.
    """
    w, y0, y = cache
    T = y.shape[0]
    dy = check_ndim("dy", dy, 1, "(T,)")
    if dy.shape != y.shape:
        raise ValueError(f"dy has shape {dy.shape} but expected (T,) = {y.shape}")
    delta = np.empty(y.shape, dtype=np.result_type(y, dy))
    future = 0.0                              # w * delta_{t+1}, zero after the end
    for t in range(T - 1, -1, -1):
        delta[t] = dy[t] + future
        future = w * delta[t]
    dinputs = delta                           # du_t = delta_t (u_t enters with weight 1)
    y_prev = np.concatenate([[y0], y[:-1]])[:T]   # y_0 ... y_{T-1}
    dw = float(np.dot(delta, y_prev))
    dy0 = float(future)                       # w * delta_1
    return dinputs, dw, dy0
