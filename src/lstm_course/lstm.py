"""The LSTM layer: step and sequence forward/backward passes (chapters 4-6).

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

``forget_gate=False``
    The original 1997 LSTM (Hochreiter & Schmidhuber): there is no forget
    gate, i.e. f = 1 and ``c_t = c_{t-1} + i * g``. To keep one parameter
    layout for every variant, the weights still have the 4H columns
    ``[i | f | o | g]``; the f block is simply *not used*, so its gradients
    (columns ``H:2H`` of dWx, dWh and db) are exactly zero.

``peepholes=(p_i, p_f, p_o)``, each of shape (H,)
    Peephole connections (Gers, Schraudolph & Schmidhuber 2002) let the gates
    look at the cell state through a diagonal weight::

        i = sigmoid(a_i + p_i * c_{t-1})
        f = sigmoid(a_f + p_f * c_{t-1})
        o = sigmoid(a_o + p_o * c_t)        # the output gate sees the NEW c_t

    The backward passes then return one more element, the tuple
    ``dpeepholes = (dp_i, dp_f, dp_o)`` (each (H,)); see their docstrings.
    With ``forget_gate=False`` as well, p_f is unused and ``dp_f`` is zero.

The step functions (``lstm_step_forward`` / ``lstm_step_backward``) are the
readable reference: read them next to the chapter. The sequence functions
(``lstm_forward`` / ``lstm_backward``) compute exactly the same mathematics,
but are organised for speed (one big matrix product for all inputs, buffers
allocated once, weight gradients in one matrix product after the loop); their
comments explain each optimisation. A test checks that they agree with a loop
of step functions, and that both agree with PyTorch's ``nn.LSTM``.

PyTorch stores the same parameters transposed and in the gate order
i, f, g, o; ``to_torch_layout`` / ``from_torch_layout`` convert.
"""
import math
import sys
import threading

import numpy as np

from ._validate import as_float_array, check_ndim, check_shape
from .activations import sigmoid, tanh

__all__ = [
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "lstm_final_state",
    "lstm_states",
    "split_gates",
    "to_torch_layout",
    "from_torch_layout",
]


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def split_gates(a):
    """Split an array whose last axis has 4H entries into its four gate blocks.

    Parameters
    ----------
    a : array of shape (..., 4H)
        e.g. the pre-activations ``a`` (N, 4H), the bias ``b`` (4H,) or the
        weights ``Wx`` (D, 4H).

    Returns
    -------
    (a_i, a_f, a_o, a_g) : four *views* of shape (..., H), in the gate order
        i, f, o, g (columns ``0:H``, ``H:2H``, ``2H:3H``, ``3H:4H``).
    """
    a = as_float_array("a", a)
    if a.ndim == 0 or a.shape[-1] % 4 != 0:
        raise ValueError(
            f"a has shape {a.shape} but expected (..., 4H): "
            "a last axis whose length is a multiple of 4"
        )
    H = a.shape[-1] // 4
    return a[..., :H], a[..., H:2 * H], a[..., 2 * H:3 * H], a[..., 3 * H:]


def _check_weights(Wx, Wh, b, D):
    """Validate Wx (D, 4H), Wh (H, 4H), b (4H,); return them and H.

    H is read from Wh, whose shape (H, 4H) is self-consistent.
    """
    Wh = check_ndim("Wh", Wh, 2, "(H, 4H)")
    H = Wh.shape[0]
    Wh = check_shape("Wh", Wh, (H, 4 * H), "(H, 4H)")
    Wx = check_shape("Wx", Wx, (D, 4 * H), "(D, 4H)")
    b = check_shape("b", b, (4 * H,), "(4H,)")
    return Wx, Wh, b, H


def _check_peepholes(peepholes, H):
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


def _result_dtype(*arrays):
    """Common float dtype of the inputs (float32 stays float32); None is skipped."""
    return np.result_type(*[a for a in arrays if a is not None])


# ----------------------------------------------------------------------------
# one time step: the readable reference
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
    Wx, Wh, b, H = _check_weights(Wx, Wh, b, D)
    prev_h = check_shape("prev_h", prev_h, (N, H), "(N, H)")
    prev_c = check_shape("prev_c", prev_c, (N, H), "(N, H)")
    peepholes = _check_peepholes(peepholes, H)

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
# a whole sequence: the same mathematics, organised for speed
# ----------------------------------------------------------------------------
# Scratch buffers reused between calls. ``lstm_backward`` needs a big
# (T, N, 4H) temporary: the gradients w.r.t. all pre-activations. Training
# calls it again and again with the same shapes, so instead of allocating (and
# page-faulting) up to tens of megabytes per call, each thread keeps ONE
# buffer per name here and reuses it while shape and dtype stay the same (a
# new shape replaces it). Rules that keep this safe:
#   * ``arrays`` holds only scratch: never returned, never part of a cache
#     (outputs are always new arrays, never views of a workspace);
#   * per thread (threading.local), so concurrent calls do not share buffers.
# The memory (about the size of the forward cache's ``gates`` plus ``x``)
# stays allocated after the call; ``_clear_workspace()`` releases it. The same
# per-thread store keeps, under ``blocks``, the memory that forward caches are
# carved from: see ``_cache_arrays`` below.
_workspace_store = threading.local()


def _workspace(name, shape, dtype):
    """A scratch array (contents undefined) reused by later calls; see above."""
    arrays = _workspace_store.__dict__.setdefault("arrays", {})
    shape, dtype = tuple(shape), np.dtype(dtype)
    arr = arrays.get(name)
    if arr is None or arr.shape != shape or arr.dtype != dtype:
        arrays[name] = None                      # free the old one first
        arr = arrays[name] = np.empty(shape, dtype=dtype)
    return arr


def _clear_workspace():
    """Release the scratch buffers (and recycled cache memory) of the calling thread."""
    _workspace_store.__dict__.pop("arrays", None)
    _workspace_store.__dict__.pop("blocks", None)


# Recycled memory for forward caches. Every training step creates a new forward
# cache (N*T*(D + 7H) numbers: 49 MB for N = 64, T = 100, D = 128, H = 256 in
# float32) and drops the previous one. With glibc's malloc that pattern hands
# the memory back to the kernel at the end of every step and page-faults it in
# again in the next (measured in a process that runs only the LSTM: about
# 6 000 page faults per step at that size, and 15-20 ms of a ~135 ms step).
# So ``lstm_forward`` carves its cache arrays out of ONE block of memory from
# ``_cache_arrays``, which keeps the last ``_KEEP_BLOCKS`` blocks and hands a
# block out again once nothing refers to it any more. Each cache array is a
# view of the block, and every view (also a slice of it that the caller kept,
# e.g. ``cache["hs"][-1]``, a memoryview, or a tensor from torch.from_numpy)
# holds a Python reference to the block; the block is free when the only
# reference left is the store's own. (Only a raw pointer, e.g. from
# ``arr.ctypes.data``, holds no reference: do not keep one to a cache array
# after the cache is gone.)
_KEEP_BLOCKS = 4   # a training loop keeps the previous cache alive while the next
                   # forward pass runs: 2 blocks per layer (or per batch shape)


def _references(blocks, k):
    """Reference count of ``blocks[k]``.

    ``sys.getrefcount`` also counts the references that the call itself makes;
    passing the list, not the block, makes the list's the only other one. A
    free block is recognised by comparing with the count of an object that
    only a list refers to, measured with this same function.
    """
    return sys.getrefcount(blocks[k])


def _cache_arrays(shapes, dtype):
    """New arrays of the given shapes (contents undefined) for a forward cache.

    They are consecutive views of one block of memory, a block of a previous
    cache that nothing refers to any more when there is one of the right size
    (see above), else a new block.
    """
    sizes = [math.prod(shape) for shape in shapes]
    total, dtype = sum(sizes), np.dtype(dtype)
    blocks = _workspace_store.__dict__.setdefault("blocks", [])
    free = _references([object()], 0)       # the count of a block no cache uses
    block = None
    for k in range(len(blocks)):
        if blocks[k].size == total and blocks[k].dtype == dtype and _references(blocks, k) == free:
            block = blocks.pop(k)           # most recently used goes to the end
            break
    if block is None:
        block = np.empty(total, dtype=dtype)
    blocks.append(block)
    del blocks[:-_KEEP_BLOCKS]              # forget the oldest (its cache, if alive, keeps it)
    arrays, start = [], 0
    for shape, size in zip(shapes, sizes):
        arrays.append(block[start:start + size].reshape(shape))
        start += size
    return arrays


def _to_batch_major(arr):
    """A time-major (T, N, ...) array as a NEW batch-major (N, T, ...) array.

    Always a copy (``np.ascontiguousarray`` would return a view when N = 1 or
    T = 1 make the transposed view contiguous already), so that what the
    sequence functions return never shares memory with a cache or a scratch
    buffer.
    """
    return arr.transpose(1, 0, 2).copy()


def _activation_scale(H, dtype):
    """The vector s (4H,) = [1/2 (i, f, o) | 1 (g)] used by ``lstm_forward``."""
    s = np.full(4 * H, 0.5, dtype=dtype)
    s[3 * H:] = 1.0
    return s


def lstm_forward(x, h0, Wx, Wh, b, *, c0=None, forget_gate=True, peepholes=None):
    """Forward pass of an LSTM over a whole sequence.

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
    h : (N, T, H)       hidden states h_1 ... h_T (a new array)
    cache : dict        for ``lstm_backward``. ``lstm_final_state(cache)``
                        gives (h_T, c_T), e.g. to carry the state into the
                        next chunk of a long sequence (truncated BPTT), and
                        ``lstm_states(cache)`` all gates and cell states.

    Step t computes the same numbers as ``lstm_step_forward(x[:, t], h_{t-1},
    c_{t-1}, ...)`` (up to rounding in the last bit, because the sigmoid is
    evaluated by an equivalent formula, see below).
    """
    x = check_ndim("x", x, 3, "(N, T, D)")
    N, T, D = x.shape
    Wx, Wh, b, H = _check_weights(Wx, Wh, b, D)
    h0 = check_shape("h0", h0, (N, H), "(N, H)")
    if c0 is not None:
        c0 = check_shape("c0", c0, (N, H), "(N, H)")
    peepholes = _check_peepholes(peepholes, H)
    dtype = _result_dtype(x, h0, c0, Wx, Wh, b, *(peepholes or ()))

    # Optimisation 1: one formula for all four activations. Using
    #     sigmoid(a) = 1/2 + 1/2 tanh(a / 2),
    # every gate is a tanh followed by a fixed affine map:
    #     [i, f, o, g] = shift + scale * tanh(s * a)
    # with s = scale = [1/2, 1/2, 1/2, 1] and shift = [1/2, 1/2, 1/2, 0] per
    # block. So one tanh over the whole contiguous (N, 4H) block replaces four
    # separate calls on strided column slices. We fold "s * a" into scaled
    # copies of the parameters (s * a = x (s Wx) + h (s Wh) + s b); halving is
    # exact in floating point, so nothing is lost. (Like activations.sigmoid,
    # tanh never overflows.)
    s = _activation_scale(H, dtype)
    Wx_s, Wh_s, b_s = Wx * s, Wh * s, b * s
    shift = np.where(s == 0.5, 0.5, 0.0).astype(dtype)    # [1/2 | 1/2 | 1/2 | 0]
    if peepholes is not None:
        p_i_s, p_f_s, p_o_s = (0.5 * p for p in peepholes)

    # Optimisation 2: time-major buffers. Internally we index time first, so
    # that everything belonging to step t, e.g. gates[t] of shape (N, 4H), is
    # one contiguous block of memory. All arrays of the cache are allocated
    # here, from memory recycled from earlier calls (see ``_cache_arrays``):
    # hs[t] is h_t and cs[t] is c_t, with hs[0] = h0 and cs[0] = c0, so
    # h_{t-1} for step t is simply hs[t].
    x_tm, gates, hs, cs, tanh_cs = _cache_arrays(
        [(T, N, D), (T, N, 4 * H), (T + 1, N, H), (T + 1, N, H), (T, N, H)], dtype)
    np.copyto(x_tm, x.transpose(1, 0, 2))

    # Optimisation 3: the input part x_t Wx + b does not depend on the
    # recurrence, so compute it for ALL time steps with ONE matrix product
    # (T*N, D) @ (D, 4H) instead of T small ones. The loop turns this buffer
    # into the gate activations in place: afterwards gates[t] = [i | f | o | g].
    # The product is written straight into the buffer (``out=``) and the bias
    # added in place: no temporary (T*N, 4H) arrays.
    np.matmul(x_tm.reshape(T * N, D), Wx_s, out=gates.reshape(T * N, 4 * H))
    gates += b_s

    # Optimisation 4: the loop allocates nothing: its scratch and the views of
    # the four gates are made once, here, and every operation in it writes
    # into an existing buffer (out=, +=, *=).
    hs[0] = h0
    cs[0] = 0 if c0 is None else c0
    hWh = np.empty((N, 4 * H), dtype=dtype)   # scratch for h_{t-1} (s Wh)
    ig = np.empty((N, H), dtype=dtype)        # scratch for i * g
    a_o_s = np.empty((N, H), dtype=dtype)     # scratch for the peephole o gate
    gates_i, gates_f, gates_o, gates_g = split_gates(gates)   # (T, N, H) views, made once

    for t in range(T):
        a = gates[t]                          # (N, 4H), a view into the buffer
        np.matmul(hs[t], Wh_s, out=hWh)
        a += hWh                              # s * (x_t Wx + b + h_{t-1} Wh)
        i, f, o, g = gates_i[t], gates_f[t], gates_o[t], gates_g[t]   # views of a
        c_prev, c_next = cs[t], cs[t + 1]
        if peepholes is not None:
            i += p_i_s * c_prev               # i and f look at c_{t-1} ...
            f += p_f_s * c_prev
            np.copyto(a_o_s, o)               # ... o must wait for c_t
        # i, f, o = sigmoid(.), g = tanh(.): three passes over the block.
        np.tanh(a, out=a)
        a *= s
        a += shift
        # c_t = f * c_{t-1} + i * g   (1997 LSTM: c_t = c_{t-1} + i * g)
        np.multiply(i, g, out=ig)
        if forget_gate:
            np.multiply(f, c_prev, out=c_next)
            c_next += ig
        else:
            np.add(c_prev, ig, out=c_next)    # the f block is ignored
        if peepholes is not None:
            a_o_s += p_o_s * c_next           # the output gate sees the new c_t
            np.tanh(a_o_s, out=o)
            o *= 0.5
            o += 0.5
        # h_t = o * tanh(c_t)
        np.tanh(c_next, out=tanh_cs[t])
        np.multiply(o, tanh_cs[t], out=hs[t + 1])

    # Back to batch-major (N, T, H); a copy, so that editing h cannot corrupt
    # the cache.
    h = _to_batch_major(hs[1:])
    cache = {
        "x_tm": x_tm, "hs": hs, "cs": cs, "tanh_cs": tanh_cs, "gates": gates,
        "Wx": Wx, "Wh": Wh, "forget_gate": bool(forget_gate),
        "peepholes": peepholes, "dtype": dtype,
    }
    return h, cache


_BLOCK_BYTES = 2 ** 18   # time-block size of lstm_backward's local derivatives


def _local_derivatives(gates, c_prev, tanh_c, forget_gate, local, local_c):
    """The local derivatives used by ``lstm_backward``, for a block of K steps.

    With gates = [i | f | o | g] (K, N, 4H), c_prev = c_{t-1} and tanh_c =
    tanh(c_t) (K, N, H), fill ``local`` (K, N, 4H), laid out like the gates,
    and ``local_c`` (K, N, H) in place::

        local   = [g i (1 - i) | c_{t-1} f (1 - f) | tanh(c_t) o (1 - o) | i (1 - g^2)]
        local_c = o (1 - tanh(c_t)^2)

    so that da_i, da_f, da_g = dc_t * local (i, f, g blocks),
    da_o = dh_t * local (o block), and h_t passes dh_t * local_c on to c_t.
    Without a forget gate the f block is left unused.
    """
    H = c_prev.shape[-1]
    i, g, o = gates[..., :H], gates[..., 3 * H:], gates[..., 2 * H:3 * H]
    np.subtract(1, gates, out=local)
    local *= gates                               # y (1 - y) for i, f, o ...
    local_i, local_f, local_o, local_g = (local[..., k * H:(k + 1) * H] for k in range(4))
    np.multiply(g, g, out=local_g)
    np.subtract(1, local_g, out=local_g)         # ... and 1 - g^2 for g
    local_i *= g                                 # g i (1 - i)
    if forget_gate:
        local_f *= c_prev                        # c_{t-1} f (1 - f)
    local_o *= tanh_c                            # tanh(c_t) o (1 - o)
    local_g *= i                                 # i (1 - g^2)
    np.multiply(tanh_c, tanh_c, out=local_c)
    np.subtract(1, local_c, out=local_c)
    local_c *= o                                 # o (1 - tanh(c_t)^2)


def lstm_backward(dh, cache, *, dc_T=None, return_dc0=False):
    """Backward pass of an LSTM over a whole sequence (backpropagation through time).

    Parameters
    ----------
    dh : (N, T, H)      gradient of the loss w.r.t. every hidden state h_t
                        (zeros where the loss does not read h_t)
    cache : dict        from ``lstm_forward``
    dc_T : (N, H) or None
                        optional gradient w.r.t. the final cell state c_T,
                        e.g. from a loss on c_T, or from the next chunk when a
                        long sequence is processed in chunks with exact
                        gradients (None means zeros). A gradient w.r.t. h_T
                        simply goes into ``dh[:, -1]``.
    return_dc0 : bool   also return the gradient w.r.t. the initial cell
                        state c0 (meaningful also when c0 defaulted to zeros)

    Returns
    -------
    By default (no peepholes) the 5-tuple ``(dx, dh0, dWx, dWh, db)``:
        dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    Extras are appended in this fixed order, only when they apply:
        6. ``dpeepholes = (dp_i, dp_f, dp_o)``, each (H,), if the forward
           pass used peepholes;
        7. ``dc0`` (N, H), if ``return_dc0=True``.
    For example ``dx, dh0, dWx, dWh, db, dc0 = lstm_backward(dh, cache,
    return_dc0=True)`` without peepholes, and
    ``dx, dh0, dWx, dWh, db, (dp_i, dp_f, dp_o), dc0 = ...`` with them.

    The weight gradients are sums over all time steps, because the same
    weights are used at every step. With ``forget_gate=False`` the f columns
    (``H:2H``) of dWx, dWh and db are exactly zero.
    """
    x_tm, hs, cs, tanh_cs, gates = (
        cache["x_tm"], cache["hs"], cache["cs"], cache["tanh_cs"], cache["gates"])
    Wx, Wh, peepholes, forget_gate = (
        cache["Wx"], cache["Wh"], cache["peepholes"], cache["forget_gate"])
    T, N, D = x_tm.shape
    H = hs.shape[2]
    dh = check_shape("dh", dh, (N, T, H), "(N, T, H)")
    if dc_T is not None:
        dc_T = check_shape("dc_T", dc_T, (N, H), "(N, H)")
    dtype = _result_dtype(cache["dtype"], dh, dc_T)
    if peepholes is not None:
        p_i, p_f, p_o = peepholes

    # One buffer for the gradients w.r.t. all pre-activations da_t (gate order
    # i, f, o, g); the weight gradients are computed from it after the loop.
    # Viewed as (T, N, 4, H), block k of step t is das4[t, :, k]. It is
    # scratch, reused between calls (see ``_workspace``).
    das = _workspace("das", (T, N, 4 * H), dtype)
    das4 = das.reshape(T, N, 4, H)
    dh_tm = dh.transpose(1, 0, 2)               # (T, N, H) view, read only
    dprev_h = np.zeros((N, H), dtype=dtype)     # gradient reaching h_{t-1} from step t
    dc = np.zeros((N, H), dtype=dtype)          # gradient reaching c_t
    if dc_T is not None:
        dc += dc_T
    dh_t = np.empty((N, H), dtype=dtype)        # scratch: total gradient reaching h_t
    tmp = np.empty((N, H), dtype=dtype)         # scratch
    WhT = np.ascontiguousarray(Wh.T)            # (4H, H), contiguous for the matmul
    f = gates[:, :, H:2 * H]                    # (T, N, H) view: the forget gates

    # Optimisation 5: the LOCAL derivatives of the gates do not depend on the
    # gradient flowing back (see ``_local_derivatives``), so they are computed
    # for a whole block of K time steps at once: a few array operations per
    # block instead of many per step. K is chosen so that a block (about
    # 256 KB) is still in the CPU cache when the loop reads it; for small N
    # the block is the whole sequence.
    K = max(1, min(T, _BLOCK_BYTES // max(1, N * 4 * H * gates.itemsize)))
    local = np.empty((K, N, 4 * H), dtype=gates.dtype)
    local_c = np.empty((K, N, H), dtype=gates.dtype)
    local4 = local.reshape(K, N, 4, H)
    local_o = local[:, :, 2 * H:3 * H]
    # Views made once, outside the loop (making a view costs time too):
    das_i, das_f, das_o, _ = split_gates(das)   # (T, N, H) each: da_i, da_f, da_o of every step
    dc_3d = dc[:, None, :]                      # dc as (N, 1, H), for the broadcast below;
                                                # valid because dc is only changed in place

    for t_end in range(T, 0, -K):               # blocks [t0, t_end), the last one first
        t0 = max(0, t_end - K)
        _local_derivatives(gates[t0:t_end], cs[t0:t_end], tanh_cs[t0:t_end],
                           forget_gate, local[:t_end - t0], local_c[:t_end - t0])
        for t in range(t_end - 1, t0 - 1, -1):
            k = t - t0                          # step t in the block
            da = das[t]                         # (N, 4H): [da_i | da_f | da_o | da_g]
            np.add(dh_tm[t], dprev_h, out=dh_t)     # from the loss at t and from step t+1
            # h_t = o * tanh(c_t): c_t is reached through h_t as well
            np.multiply(dh_t, local_c[k], out=tmp)
            dc += tmp
            if peepholes is not None:
                np.multiply(dh_t, local_o[k], out=tmp)   # da_o ...
                dc += tmp * p_o                 # ... o looked at c_t
            # c_t = f * c_{t-1} + i * g: da_i, da_f, da_g = dc * their local
            # derivative, all three in one broadcast product (dc as (N, 1, H)).
            # It also writes the o block, which is then overwritten: da_o
            # depends on dh_t, not on dc.
            np.multiply(dc_3d, local4[k], out=das4[t])
            if peepholes is not None:
                np.copyto(das_o[t], tmp)
            else:
                np.multiply(dh_t, local_o[k], out=das_o[t])
            if forget_gate:
                dc *= f[t]                      # dc_{t-1} = dc_t * f: the carousel, gated
            else:
                das_f[t] = 0                    # f = 1 is a constant: no gradient
                # and dc_{t-1} = dc_t: the error flows back unchanged
            if peepholes is not None:
                dc += das_i[t] * p_i            # i and f looked at c_{t-1}
                if forget_gate:
                    dc += das_f[t] * p_f
            # a_t = x_t Wx + h_{t-1} Wh + b  ->  dh_{t-1} = da_t Wh^T
            np.matmul(da, WhT, out=dprev_h)

    # Optimisation 6: the weights are shared by all time steps, so their
    # gradients are sums over t of x_t^T da_t and h_{t-1}^T da_t. Stacking the
    # time steps turns each sum into ONE matrix product:
    #     dWx = sum_t x_t^T da_t = X^T dA    with X (T*N, D), dA (T*N, 4H)
    das_2d = das.reshape(T * N, 4 * H)
    dWx = x_tm.reshape(T * N, D).T @ das_2d
    dWh = hs[:T].reshape(T * N, H).T @ das_2d      # h_0 ... h_{T-1}
    db = das_2d.sum(axis=0)
    # dx_t = da_t Wx^T, also for all t at once (into scratch); then back to
    # batch-major, a new array.
    dx_tm = _workspace("dx_tm", (T * N, D), dtype)
    np.matmul(das_2d, Wx.T, out=dx_tm)
    dx = _to_batch_major(dx_tm.reshape(T, N, D))   # never a view of the scratch
    dh0 = dprev_h

    grads = [dx, dh0, dWx, dWh, db]
    if peepholes is not None:
        # dp_i = sum over t and n of da_i * c_{t-1} (likewise f); o saw c_t.
        grads.append((
            np.einsum("tnh,tnh->h", das[:, :, :H], cs[:T]),
            np.einsum("tnh,tnh->h", das[:, :, H:2 * H], cs[:T]),
            np.einsum("tnh,tnh->h", das[:, :, 2 * H:3 * H], cs[1:]),
        ))
    if return_dc0:
        grads.append(dc)
    return tuple(grads)


def lstm_final_state(cache):
    """The last hidden and cell state (h_T, c_T), each (N, H), from a forward cache.

    Pass them as ``h0`` and ``c0`` to the next call of ``lstm_forward`` to
    carry the state across chunks of a long sequence (truncated BPTT).
    Returns copies.
    """
    return cache["hs"][-1].copy(), cache["cs"][-1].copy()


def lstm_states(cache):
    """All internal states of a forward pass, batch-major, for plots and widgets.

    Returns a dict of new arrays, each of shape (N, T, H): ``i``, ``f``,
    ``o``, ``g`` (the gate activations; ``f`` is all ones for the 1997 LSTM),
    ``c`` (c_1 ... c_T) and ``h`` (h_1 ... h_T).
    """
    i, f, o, g = (_to_batch_major(gate) for gate in split_gates(cache["gates"]))
    if not cache["forget_gate"]:
        f = np.ones_like(f)                 # the f block is unused: f = 1
    return {
        "i": i, "f": f, "o": o, "g": g,
        "c": _to_batch_major(cache["cs"][1:]), "h": _to_batch_major(cache["hs"][1:]),
    }


# ----------------------------------------------------------------------------
# PyTorch layout
# ----------------------------------------------------------------------------
def _swap_o_g(m, axis):
    """Swap the 3rd and 4th H-blocks along ``axis`` (i,f,o,g <-> i,f,g,o); a copy."""
    m = np.asarray(m)
    i, f, third, fourth = np.split(m, 4, axis=axis)
    return np.concatenate([i, f, fourth, third], axis=axis)


def to_torch_layout(Wx, Wh, b):
    """Convert course parameters to PyTorch's ``nn.LSTM`` layout.

    PyTorch computes the gates as ``x W_ih^T + b_ih + h W_hh^T + b_hh`` with
    the 4H axis in the order i, f, g, o (ours: i, f, o, g) and weights stored
    transposed.

    Parameters
    ----------
    Wx : (D, 4H), Wh : (H, 4H), b : (4H,)

    Returns
    -------
    (weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,)) as
    numpy arrays; the whole bias goes into ``bias_ih`` and ``bias_hh`` is
    zeros. Copy them into ``lstm.weight_ih_l0`` etc. with
    ``torch.from_numpy``.
    """
    Wh = check_ndim("Wh", Wh, 2, "(H, 4H)")
    Wx = check_ndim("Wx", Wx, 2, "(D, 4H)")
    Wx, Wh, b, H = _check_weights(Wx, Wh, b, Wx.shape[0])
    weight_ih = np.ascontiguousarray(_swap_o_g(Wx, axis=1).T)
    weight_hh = np.ascontiguousarray(_swap_o_g(Wh, axis=1).T)
    bias_ih = _swap_o_g(b, axis=0)
    bias_hh = np.zeros_like(bias_ih)
    return weight_ih, weight_hh, bias_ih, bias_hh


def from_torch_layout(weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """Convert PyTorch ``nn.LSTM`` parameters (as numpy arrays) to ours.

    Parameters
    ----------
    weight_ih : (4H, D)   e.g. ``lstm.weight_ih_l0.detach().numpy()``
    weight_hh : (4H, H)
    bias_ih, bias_hh : (4H,) or None (a layer built with ``bias=False``)

    Returns
    -------
    (Wx (D, 4H), Wh (H, 4H), b (4H,)) in gate order i, f, o, g, with
    ``b = bias_ih + bias_hh`` (the two biases are always added, so only their
    sum matters). Also converts gradients: pass ``weight_ih.grad``,
    ``weight_hh.grad`` and ONE bias gradient (``bias_ih.grad``) to get
    (dWx, dWh, db). Do not pass both bias gradients: since b = bias_ih +
    bias_hh, each of them already equals db, and their sum would be 2 db.
    """
    weight_hh = check_ndim("weight_hh", weight_hh, 2, "(4H, H)")
    H = weight_hh.shape[1]
    weight_hh = check_shape("weight_hh", weight_hh, (4 * H, H), "(4H, H)")
    weight_ih = check_ndim("weight_ih", weight_ih, 2, "(4H, D)")
    weight_ih = check_shape("weight_ih", weight_ih, (4 * H, weight_ih.shape[1]), "(4H, D)")
    b = np.zeros(4 * H, dtype=np.result_type(weight_ih, weight_hh))
    if bias_ih is not None:
        b = b + check_shape("bias_ih", bias_ih, (4 * H,), "(4H,)")
    if bias_hh is not None:
        b = b + check_shape("bias_hh", bias_hh, (4 * H,), "(4H,)")
    Wx = np.ascontiguousarray(_swap_o_g(weight_ih, axis=0).T)
    Wh = np.ascontiguousarray(_swap_o_g(weight_hh, axis=0).T)
    return Wx, Wh, _swap_o_g(b, axis=0)
