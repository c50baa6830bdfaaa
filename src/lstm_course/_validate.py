"""Input validation shared by the public functions.

Every public function checks its arguments up front, so that a wrong shape
fails *where the mistake is made* with a message that names the argument, the
shape it got and the shape it expected, e.g.::

    ValueError: Wx has shape (3, 8) but expected (D, 4H) = (3, 12)

This module is deliberately small; students can ignore it.
"""
import numpy as np

__all__ = ["as_float_array", "check_shape", "check_ndim"]


def as_float_array(name, value):
    """Return ``value`` as a floating numpy array, or raise a clear error.

    Integer and boolean arrays are rejected rather than silently converted:
    ``np.array([1, 2]) * 0.5`` is fine, but an integer weight matrix updated in
    place would silently truncate, which is a classic source of confusion.
    """
    arr = np.asarray(value)
    if arr.dtype.kind != "f":
        raise ValueError(
            f"{name} must be a floating-point array (float32 or float64), "
            f"got dtype {arr.dtype} with shape {arr.shape}"
        )
    return arr


def check_ndim(name, arr, ndim, expected_desc):
    """Check ``arr.ndim == ndim``; ``expected_desc`` reads like ``'(N, T, D)'``."""
    arr = as_float_array(name, arr)
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} has shape {arr.shape} but expected {ndim} dimensions {expected_desc}"
        )
    return arr


def check_shape(name, arr, expected, expected_desc=None):
    """Check ``arr.shape == expected`` (a tuple of ints).

    ``expected_desc`` names the dimensions, e.g. ``'(D, 4H)'``; the message then
    reads ``Wx has shape (3, 8) but expected (D, 4H) = (3, 12)``.
    """
    arr = as_float_array(name, arr)
    expected = tuple(int(e) for e in expected)
    if arr.shape != expected:
        desc = f"{expected_desc} = {expected}" if expected_desc else f"{expected}"
        raise ValueError(f"{name} has shape {arr.shape} but expected {desc}")
    return arr
