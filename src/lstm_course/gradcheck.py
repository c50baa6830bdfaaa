"""Numerical gradients by centred differences, and the relative error.

This is how every backward pass in the course is checked: nudge one input
number by +h and -h, re-run the forward pass, and compare::

    df/dx_k  ~=  (f(x + h e_k) - f(x - h e_k)) / (2 h)

The error of the centred difference is O(h**2) (one-sided differences are only
O(h)), so with float64 and h = 1e-5 an analytic gradient that is right agrees
to a relative error around 1e-8 or better; a wrong one is off by ~1e-2 to 1.
"""
import numpy as np

__all__ = ["eval_numerical_gradient", "eval_numerical_gradient_array", "rel_error", "grad_check"]


def eval_numerical_gradient(f, x, h=1e-5):
    """Numerical gradient of a *scalar* function ``f`` at array ``x``.

    ``f`` takes no arguments and reads ``x`` (which is modified in place and
    restored), returning a float. Returns an array shaped like ``x``.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = float(f())
        x[ix] = old - h
        fxmh = float(f())
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of ``sum(f() * df)`` with respect to ``x``.

    Use this for an array-valued function: ``df`` is the upstream gradient
    (same shape as the output of ``f``), so the result is what a backward pass
    should return for ``x`` given ``df``. ``x`` is modified in place and
    restored.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(), dtype=np.float64, copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def rel_error(x, y, eps=1e-8):
    """Largest elementwise relative error ``|x - y| / max(eps, |x| + |y|)``.

    0 for equal arrays; around 1e-8 for a correct float64 gradient check; above
    1e-3 means a bug.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: x has shape {x.shape} but y has shape {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(eps, np.abs(x) + np.abs(y))))


def grad_check(f, inputs, analytic, h=1e-5):
    """Compare analytic gradients with numerical ones for a scalar ``f``.

    ``inputs`` is a dict name -> array that ``f`` reads; ``analytic`` a dict with
    the same names -> gradient arrays. Returns a dict name -> relative error.
    """
    errors = {}
    for name, x in inputs.items():
        num = eval_numerical_gradient(f, x, h=h)
        errors[name] = rel_error(num, analytic[name])
    return errors
