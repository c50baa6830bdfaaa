"""The vanilla RNN: one step, a whole sequence, and backpropagation through time.

Notation (see the book's notation appendix), batch-major row vectors::

    x_t  (N, D)   input at time t            x    (N, T, D)   the whole sequence
    h_t  (N, H)   hidden state at time t     h    (N, T, H)   all hidden states
    Wx   (D, H)   input-to-hidden weights
    Wh   (H, H)   hidden-to-hidden weights
    b    (H,)     bias

    a_t = x_t Wx + h_{t-1} Wh + b            (N, H)
    h_t = tanh(a_t)

Every forward function returns its output and a ``cache`` with what the
matching backward function needs; every backward function takes the gradient
of the loss with respect to the output (``dnext_h`` or ``dh``) and that cache.

The same ``Wx, Wh, b`` are used at every time step ("shared weights"), so their
gradients are the *sum* of the gradients from each step: that is all there is
to backpropagation through time (BPTT).
"""
import numpy as np

from ._validate import check_ndim, check_shape

__all__ = ["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward"]


def _check_weights(Wx, Wh, b, D=None):
    """Validate Wx (D, H), Wh (H, H), b (H,); return them as arrays and H."""
    Wx = check_ndim("Wx", Wx, 2, "(D, H)")
    H = Wx.shape[1]
    if D is not None:
        Wx = check_shape("Wx", Wx, (D, H), "(D, H)")
    Wh = check_shape("Wh", Wh, (H, H), "(H, H)")
    b = check_shape("b", b, (H,), "(H,)")
    return Wx, Wh, b, H


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One time step of the vanilla RNN: next_h = tanh(x Wx + prev_h Wh + b).

    Inputs:
        x       (N, D)  input at this time step, x_t
        prev_h  (N, H)  hidden state of the previous step, h_{t-1}
        Wx      (D, H)  input-to-hidden weights
        Wh      (H, H)  hidden-to-hidden weights
        b       (H,)    bias

    Returns:
        next_h  (N, H)  the new hidden state h_t
        cache           (x, prev_h, Wx, Wh, next_h) for rnn_step_backward
    """
    x = check_ndim("x", x, 2, "(N, D)")
    N, D = x.shape
    Wx, Wh, b, H = _check_weights(Wx, Wh, b, D)
    prev_h = check_shape("prev_h", prev_h, (N, H), "(N, H)")

    a = x @ Wx + prev_h @ Wh + b  # (N, H) pre-activation a_t
    next_h = np.tanh(a)  # (N, H)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    """Backward pass of one RNN step.

    Inputs:
        dnext_h  (N, H)  gradient of the loss with respect to next_h
        cache            from rnn_step_forward

    Returns:
        dx       (N, D)  gradient with respect to x
        dprev_h  (N, H)  gradient with respect to prev_h (flows back in time)
        dWx      (D, H), dWh (H, H), db (H,)  gradients of the weights
    """
    x, prev_h, Wx, Wh, next_h = cache
    dnext_h = check_shape("dnext_h", dnext_h, next_h.shape, "(N, H)")

    # Through the tanh: d tanh(a)/da = 1 - tanh(a)**2 = 1 - next_h**2 (at most 1).
    da = dnext_h * (1.0 - next_h * next_h)  # (N, H)

    # a = x Wx + prev_h Wh + b is a sum of three affine terms.
    dx = da @ Wx.T  # (N, D)
    dprev_h = da @ Wh.T  # (N, H)
    dWx = x.T @ da  # (D, H)
    dWh = prev_h.T @ da  # (H, H)
    db = da.sum(axis=0)  # (H,)  b was broadcast over the batch, so sum over it
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """Run the vanilla RNN over a whole sequence.

    Inputs:
        x   (N, T, D)  the input sequence, x[:, t] is x_t
        h0  (N, H)     initial hidden state
        Wx  (D, H), Wh (H, H), b (H,)  the same weights at every time step

    Returns:
        h      (N, T, H)  hidden states for all time steps, h[:, t] is h_t
        cache             list of the T step caches, for rnn_backward
    """
    x = check_ndim("x", x, 3, "(N, T, D)")
    N, T, D = x.shape
    if T < 1:
        raise ValueError(f"x has shape {x.shape} but expected (N, T, D) with T >= 1")
    Wx, Wh, b, H = _check_weights(Wx, Wh, b, D)
    h0 = check_shape("h0", h0, (N, H), "(N, H)")

    h = np.zeros((N, T, H), dtype=np.result_type(x, h0, Wx, Wh, b))
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
        cache.append(step_cache)
    return h, cache


def rnn_backward(dh, cache):
    """Backpropagation through time for the whole sequence.

    Inputs:
        dh     (N, T, H)  gradient of the loss with respect to every h_t
                          (coming from the layer above, e.g. the output layer)
        cache             from rnn_forward

    Returns:
        dx   (N, T, D)  gradient with respect to the inputs
        dh0  (N, H)     gradient with respect to the initial hidden state
        dWx  (D, H), dWh (H, H), db (H,)
    """
    T = len(cache)
    x0, _, Wx, Wh, _ = cache[0]
    N, D = x0.shape
    H = Wh.shape[0]
    dh = check_shape("dh", dh, (N, T, H), "(N, T, H)")

    dtype = np.result_type(dh, Wx)
    dx = np.zeros((N, T, D), dtype=dtype)
    dWx = np.zeros_like(Wx, dtype=dtype)
    dWh = np.zeros_like(Wh, dtype=dtype)
    db = np.zeros(H, dtype=dtype)
    dprev_h = np.zeros((N, H), dtype=dtype)  # nothing flows in from after the last step

    for t in reversed(range(T)):
        # h_t is used twice: by the layer above (dh[:, t]) and by step t + 1
        # (dprev_h from the step we just did). Gradients of a reused value add.
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, cache[t])
        # The weights are SHARED by all time steps: their gradients ADD UP over time.
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db
