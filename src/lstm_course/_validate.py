"""Input validation shared by the public functions.

Every public function checks its arguments up front, so that a wrong shape
fails *where the mistake is made* with a message that names the argument, the
shape it got and the shape it expected, e.g.::

    ValueError: Wx has shape (3, 8) but expected (D, 4H) = (3, 12)

This module is deliberately small; students can ignore it.
"""
import numpy as np

__all__ = ["as_float_array", "check_shape", "check_ndim", "check_lstm_weights", "check_peepholes",
           "result_dtype"]


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


# --- the LSTM's parameters (used by lstm.py and lstm_fast.py) --------------
def check_lstm_weights(Wx, Wh, b, D):
    """Validate Wx (D, 4H), Wh (H, 4H), b (4H,); return them and H.

    H is read from Wh, whose shape (H, 4H) is self-consistent.
    """
    Wh = check_ndim("Wh", Wh, 2, "(H, 4H)")
    H = Wh.shape[0]
    Wh = check_shape("Wh", Wh, (H, 4 * H), "(H, 4H)")
    Wx = check_shape("Wx", Wx, (D, 4 * H), "(D, 4H)")
    b = check_shape("b", b, (4 * H,), "(4H,)")
    return Wx, Wh, b, H


def check_peepholes(peepholes, H):
    """Validate ``peepholes`` = None or a sequence (p_i, p_f, p_o) of (H,) arrays."""
    if peepholes is None:
        return None
    if isinstance(peepholes, np.ndarray) and peepholes.ndim != 2:
        raise ValueError(
            f"peepholes has shape {peepholes.shape} but expected a tuple "
            f"(p_i, p_f, p_o) of three (H,) = ({H},) arrays"
        )
    try:
        n = len(peepholes)
    except TypeError:
        raise ValueError(
            "peepholes must be None or a tuple (p_i, p_f, p_o) of three "
            f"(H,) = ({H},) arrays, got {type(peepholes).__name__}"
        ) from None
    if n != 3:
        raise ValueError(
            f"peepholes has {n} elements but expected a tuple (p_i, p_f, p_o) "
            f"of three (H,) = ({H},) arrays"
        )
    return tuple(
        check_shape(name, p, (H,), "(H,)")
        for name, p in zip(("p_i", "p_f", "p_o"), peepholes)
    )


def result_dtype(*arrays):
    """Common float dtype of the inputs (float32 stays float32); None is skipped."""
    return np.result_type(*[a for a in arrays if a is not None])
