"""The LSTM layer, the reference: one time step forward and backward, and a
sequence as a plain loop over the steps (chapters 4-6).

Notation (the book's table; batch-major, row vectors)::

    x_t              x            (N, D)     one time step of the input
    h_{t-1}, c_{t-1} prev_h, prev_c (N, H)   hidden and cell state
    W_x, W_h, b      Wx, Wh, b    (D, 4H), (H, 4H), (4H,)
    a_t = x_t W_x + h_{t-1} W_h + b          (N, 4H), split in gate order i, f, o, g

    i = sigmoid(a_i)      input gate        (N, H)
    f = sigmoid(a_f)      forget gate       (N, H)
    o = sigmoid(a_o)      output gate       (N, H)
    g = tanh(a_g)         candidate values  (N, H)

    c_t = f * c_{t-1} + i * g               (* is the elementwise product)
    h_t = o * tanh(c_t)

Variants, selected by keyword (the defaults give the plain LSTM above):

``forget_gate=False``: the 1997 LSTM (Hochreiter & Schmidhuber), f = 1 and
    ``c_t = c_{t-1} + i * g``. The weights keep their 4H columns; the f block
    is unused, so its gradients (columns ``H:2H``) are exactly zero.
``peepholes=(p_i, p_f, p_o)``, each (H,): the gates look at the cell state
    (Gers & Schmidhuber 2000), ``i = sigmoid(a_i + p_i * c_{t-1})``, likewise
    f, and ``o = sigmoid(a_o + p_o * c_t)`` (the NEW c_t). The backward passes
    then also return ``dpeepholes = (dp_i, dp_f, dp_o)``.

This module is written to be read next to the chapters: ``lstm_forward`` and
``lstm_backward`` are the loops that chapter 6 derives. ``lstm_fast`` computes
the same numbers (up to rounding) with the same signatures, organised for
speed; the models and experiments use it, and the appendix "Making the LSTM
fast" explains it step by step. PyTorch's layout: ``torch_layout``.
"""
import numpy as np

from ._validate import (as_float_array, check_lstm_weights, check_ndim, check_peepholes, check_shape,
                        result_dtype)
from .activations import sigmoid, tanh
from .torch_layout import from_torch_layout, to_torch_layout  # noqa: F401  (re-exported)

__all__ = ["lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
           "lstm_final_state", "lstm_states", "split_gates", "to_torch_layout", "from_torch_layout"]


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def split_gates(a):
    """Split an array whose last axis has 4H entries into its four gate blocks.

    ``a`` of shape (..., 4H): e.g. the pre-activations (N, 4H), ``b`` (4H,) or
    ``Wx`` (D, 4H). Returns four *views* (a_i, a_f, a_o, a_g) of shape (..., H),
    in the gate order i, f, o, g (columns ``0:H``, ``H:2H``, ``2H:3H``, ``3H:4H``).
    """
    a = as_float_array("a", a)
    if a.ndim == 0 or a.shape[-1] % 4 != 0:
        raise ValueError(
            f"a has shape {a.shape} but expected (..., 4H): "
            "a last axis whose length is a multiple of 4"
        )
    H = a.shape[-1] // 4
    return a[..., :H], a[..., H:2 * H], a[..., 2 * H:3 * H], a[..., 3 * H:]



# ----------------------------------------------------------------------------
# one time step
# ----------------------------------------------------------------------------
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, *, forget_gate=True, peepholes=None):
    """Forward pass for a single time step of an LSTM.

    Parameters
    ----------
    x : (N, D)          input at this time step
    prev_h : (N, H)     previous hidden state h_{t-1}
    prev_c : (N, H)     previous cell state c_{t-1}
    Wx : (D, 4H)        input-to-gates weights, columns in gate order i, f, o, g
    Wh : (H, 4H)        hidden-to-gates weights
    b : (4H,)           biases
    forget_gate : bool  False gives the 1997 LSTM (f = 1; the f block of the
                        weights is unused)
    peepholes : None or (p_i, p_f, p_o), each (H,)

    Returns
    -------
    next_h : (N, H)     h_t = o * tanh(c_t)
    next_c : (N, H)     c_t = f * c_{t-1} + i * g
    cache : dict        everything the backward pass needs

    The outputs have the dtype of the inputs (float32 stays float32).
    """
    x = check_ndim("x", x, 2, "(N, D)")
    N, D = x.shape
    Wx, Wh, b, H = check_lstm_weights(Wx, Wh, b, D)
    prev_h = check_shape("prev_h", prev_h, (N, H), "(N, H)")
    prev_c = check_shape("prev_c", prev_c, (N, H), "(N, H)")
    peepholes = check_peepholes(peepholes, H)

    # 1. All four gate pre-activations with two matrix products: (N, 4H).
    a = x @ Wx + prev_h @ Wh + b
    a_i, a_f, a_o, a_g = split_gates(a)

    # 2. Peepholes: the input and forget gates look at the OLD cell state.
    if peepholes is not None:
        p_i, p_f, p_o = peepholes
        a_i = a_i + p_i * prev_c
        a_f = a_f + p_f * prev_c

    # 3. Gates and candidate values.
    i = sigmoid(a_i)
    f = sigmoid(a_f) if forget_gate else None  # None stands for f = 1
    g = tanh(a_g)

    # 4. New cell state: keep part of the old one, write part of the new one.
    if forget_gate:
        next_c = f * prev_c + i * g
    else:
        next_c = prev_c + i * g  # 1997 LSTM: the constant error carousel

    # 5. Output gate (with a peephole it sees the NEW cell state) and output.
    if peepholes is not None:
        a_o = a_o + p_o * next_c
    o = sigmoid(a_o)
    tanh_c = tanh(next_c)
    next_h = o * tanh_c

    cache = {
        "x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh,
        "i": i, "f": f, "o": o, "g": g, "next_c": next_c, "tanh_c": tanh_c,
        "forget_gate": bool(forget_gate), "peepholes": peepholes,
    }
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass for a single time step of an LSTM.

    Parameters
    ----------
    dnext_h : (N, H)    gradient of the loss w.r.t. h_t
    dnext_c : (N, H)    gradient of the loss w.r.t. c_t arriving from the
                        next time step (zeros at the last step)
    cache : dict        from ``lstm_step_forward``

    Returns
    -------
    Without peepholes, the 6-tuple ``(dx, dprev_h, dprev_c, dWx, dWh, db)``:
        dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H),
        db (4H,).
    If the forward pass used peepholes, a 7-tuple: the same six followed by
    ``dpeepholes = (dp_i, dp_f, dp_o)``, each (H,).

    With ``forget_gate=False`` the f columns (``H:2H``) of dWx, dWh and db
    are exactly zero.
    """
    x, prev_h, prev_c = cache["x"], cache["prev_h"], cache["prev_c"]
    Wx, Wh = cache["Wx"], cache["Wh"]
    i, f, o, g = cache["i"], cache["f"], cache["o"], cache["g"]
    next_c, tanh_c = cache["next_c"], cache["tanh_c"]
    peepholes = cache["peepholes"]
    N, H = prev_h.shape
    dnext_h = check_shape("dnext_h", dnext_h, (N, H), "(N, H)")
    dnext_c = check_shape("dnext_c", dnext_c, (N, H), "(N, H)")

    # h_t = o * tanh(c_t): gradient into the output gate and into c_t.
    do = dnext_h * tanh_c
    da_o = do * o * (1 - o)                          # sigmoid' = o (1 - o)
    # c_t is reached two ways: from the next step (dnext_c) and through h_t.
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)   # tanh' = 1 - tanh^2
    if peepholes is not None:
        p_i, p_f, p_o = peepholes
        dc = dc + da_o * p_o                          # ... and through o's peephole

    # c_t = f * c_{t-1} + i * g
    di = dc * g
    dg = dc * i
    da_i = di * i * (1 - i)
    da_g = dg * (1 - g ** 2)
    if cache["forget_gate"]:
        df = dc * prev_c
        da_f = df * f * (1 - f)
        dprev_c = dc * f                             # dc_t/dc_{t-1} = f
    else:
        da_f = np.zeros_like(da_i)                   # f = 1 is a constant
        dprev_c = dc                                 # the error flows back unchanged
    if peepholes is not None:
        dprev_c = dprev_c + da_i * p_i + da_f * p_f  # the gates looked at c_{t-1}

    # a = x Wx + prev_h Wh + b, gate order i, f, o, g.
    da = np.concatenate([da_i, da_f, da_o, da_g], axis=1)   # (N, 4H)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)

    if peepholes is None:
        return dx, dprev_h, dprev_c, dWx, dWh, db
    dpeepholes = (
        (da_i * prev_c).sum(axis=0),
        (da_f * prev_c).sum(axis=0),
        (da_o * next_c).sum(axis=0),
    )
    return dx, dprev_h, dprev_c, dWx, dWh, db, dpeepholes


# ----------------------------------------------------------------------------
# a whole sequence: the loop over the steps (backpropagation through time)
# ----------------------------------------------------------------------------
def lstm_forward(x, h0, Wx, Wh, b, *, c0=None, forget_gate=True, peepholes=None):
    """Forward pass of an LSTM over a whole sequence: ``lstm_step_forward`` for t = 0 ... T-1.

    Parameters
    ----------
    x : (N, T, D)       input sequence
    h0 : (N, H)         initial hidden state
    Wx : (D, 4H), Wh : (H, 4H), b : (4H,)   parameters, gate order i, f, o, g
    c0 : (N, H) or None initial cell state (None means zeros)
    forget_gate : bool  False gives the 1997 LSTM (f = 1)
    peepholes : None or (p_i, p_f, p_o), each (H,)

    Returns
    -------
    h : (N, T, H)       the hidden states of all steps (a new array)
    cache : dict        for ``lstm_backward``: the list of the steps' caches.
                        ``lstm_final_state(cache)`` gives (h_T, c_T), e.g. to
                        carry the state into the next chunk of a long sequence,
                        and ``lstm_states(cache)`` all gates and cell states.
    """
    x = check_ndim("x", x, 3, "(N, T, D)")
    N, T, D = x.shape
    Wx, Wh, b, H = check_lstm_weights(Wx, Wh, b, D)
    h0 = check_shape("h0", h0, (N, H), "(N, H)")
    peepholes = check_peepholes(peepholes, H)
    dtype = result_dtype(x, h0, c0, Wx, Wh, b, *(peepholes or ()))
    if c0 is None:
        c0 = np.zeros((N, H), dtype=dtype)
    c0 = check_shape("c0", c0, (N, H), "(N, H)")

    h = np.empty((N, T, H), dtype=dtype)
    steps = []
    prev_h, prev_c = h0, c0
    for t in range(T):
        # the SAME Wx, Wh, b at every step
        prev_h, prev_c, step_cache = lstm_step_forward(
            x[:, t], prev_h, prev_c, Wx, Wh, b, forget_gate=forget_gate, peepholes=peepholes)
        h[:, t] = prev_h
        steps.append(step_cache)
    cache = {"steps": steps, "h0": h0, "c0": c0, "peepholes": peepholes, "dtype": dtype}
    return h, cache


def lstm_backward(dh, cache, *, dc_T=None, return_dc0=False):
    """Backward pass of an LSTM over a whole sequence (backpropagation through time).

    Parameters
    ----------
    dh : (N, T, H)      gradient of the loss w.r.t. every hidden state h_t
                        (zeros where the loss does not read h_t)
    cache : dict        from ``lstm_forward``
    dc_T : (N, H) or None
                        gradient w.r.t. the final cell state c_T, e.g. from the
                        next chunk of a long sequence (None means zeros). A
                        gradient w.r.t. h_T simply goes into ``dh[:, -1]``.
    return_dc0 : bool   also return the gradient w.r.t. the initial cell state

    Returns
    -------
    ``(dx, dh0, dWx, dWh, db)``: dx (N, T, D), dh0 (N, H), dWx (D, 4H),
    dWh (H, 4H), db (4H,); then, only when they apply and in this order,
    ``dpeepholes = (dp_i, dp_f, dp_o)`` (peepholes) and ``dc0`` (N, H)
    (``return_dc0=True``).

    Two streams of error run backwards through time: ``dprev_h`` (through
    h_{t-1} W_h into every gate of step t) and ``dprev_c`` (through the cell
    state, multiplied by f_t). The weight gradients are sums over all steps,
    because the same weights are used at every step.
    """
    steps, peepholes = cache["steps"], cache["peepholes"]
    N, T, H = cache["h0"].shape[0], len(steps), cache["h0"].shape[1]
    D = steps[0]["x"].shape[1] if steps else 0
    dh = check_shape("dh", dh, (N, T, H), "(N, T, H)")
    dtype = result_dtype(cache["dtype"], dh, dc_T)
    dprev_c = np.zeros((N, H), dtype=dtype)
    if dc_T is not None:
        dprev_c = dprev_c + check_shape("dc_T", dc_T, (N, H), "(N, H)")
    dprev_h = np.zeros((N, H), dtype=dtype)
    dx = np.empty((N, T, D), dtype=dtype)
    dWx = np.zeros((D, 4 * H), dtype=dtype)
    dWh = np.zeros((H, 4 * H), dtype=dtype)
    db = np.zeros(4 * H, dtype=dtype)
    dpeep = [np.zeros(H, dtype=dtype) for _ in range(3)]

    for t in reversed(range(T)):
        # h_t feeds the loss at step t AND step t+1: add the two gradients
        grads = lstm_step_backward(dh[:, t] + dprev_h, dprev_c, steps[t])
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = grads[:6]
        dWx += dWx_t                                  # shared weights: sum over t
        dWh += dWh_t
        db += db_t
        if peepholes is not None:
            for total, step_grad in zip(dpeep, grads[6]):
                total += step_grad

    result = [dx, dprev_h, dWx, dWh, db]
    if peepholes is not None:
        result.append(tuple(dpeep))
    if return_dc0:
        result.append(dprev_c)
    return tuple(result)


def lstm_final_state(cache):
    """The last hidden and cell state (h_T, c_T), each (N, H), from a forward cache.

    Pass them as ``h0`` and ``c0`` to the next call of ``lstm_forward`` to
    carry the state across chunks of a long sequence (truncated BPTT).
    Returns copies.
    """
    if not cache["steps"]:
        return cache["h0"].copy(), cache["c0"].copy()
    last = cache["steps"][-1]
    return last["o"] * last["tanh_c"], last["next_c"].copy()   # h_T = o * tanh(c_T)


def lstm_states(cache):
    """All internal states of a forward pass, for plots and widgets.

    Returns a dict of new arrays, each of shape (N, T, H): ``i``, ``f``,
    ``o``, ``g`` (the gate activations; ``f`` is all ones for the 1997 LSTM),
    ``c`` (c_1 ... c_T) and ``h`` (h_1 ... h_T).
    """
    steps = cache["steps"]
    N, H = cache["h0"].shape

    def stack(values):
        return np.stack(values, axis=1) if steps else np.empty((N, 0, H), cache["dtype"])

    f = [s["f"] if s["forget_gate"] else np.ones((N, H), cache["dtype"]) for s in steps]
    return {
        "i": stack([s["i"] for s in steps]), "f": stack(f),
        "o": stack([s["o"] for s in steps]), "g": stack([s["g"] for s in steps]),
        "c": stack([s["next_c"] for s in steps]),
        "h": stack([s["o"] * s["tanh_c"] for s in steps]),
    }
