"""The LSTM over a whole sequence, organised for speed.

``lstm_forward`` and ``lstm_backward`` here have the signatures of their
namesakes in ``lstm`` (the reference, a plain loop over ``lstm_step_forward``
and ``lstm_step_backward``) and compute the same numbers up to rounding; the
models, the training loop and the experiments use these. The comments number
the optimisations ("Optimisation 1" ...), and the appendix "Making the LSTM
fast" builds them one at a time, with their measured speed-ups:

1. one matrix product for the input part of all time steps;
2. one tanh for all four gates (sigmoid(a) = 1/2 + 1/2 tanh(a/2));
3. time-major buffers, so that step t is one contiguous block;
4. a loop that allocates nothing (views made once, in-place updates);
5. the gates' local derivatives for a block of steps at once (backward);
6. one matrix product for each weight gradient, summed over time;
7. (optional) memory kept from one training step to the next (``Workspace``).

Shapes and notation are those of ``lstm``: x (N, T, D), h (N, T, H),
Wx (D, 4H), Wh (H, 4H), b (4H,), gate order i, f, o, g.
"""
import numpy as np

from ._validate import check_lstm_weights, check_ndim, check_peepholes, check_shape, result_dtype
from .lstm import split_gates

__all__ = ["lstm_forward", "lstm_backward", "lstm_final_state", "lstm_states", "Workspace"]


class Workspace:
    """Memory that ``lstm_forward`` and ``lstm_backward`` reuse from one call to the next.

    Every training step makes a forward cache of N*T*(D + 7H) numbers (49 MB for
    N = 64, T = 100, D = 128, H = 256 in float32) and drops it after the backward
    pass. glibc's malloc returns blocks that large to the operating system when
    they are freed, so the next step page-faults them in again: measured, about
    6 000 page faults and 15-20 ms of a ~135 ms step in a process that runs only
    the LSTM. A workspace keeps the memory instead. The caller owns it and the
    rule is explicit:

        a forward pass with a workspace reuses the memory of the previous
        forward pass with the same workspace, so that earlier cache is no
        longer valid (``lstm_backward`` raises a ValueError if given one).

    A training loop (forward, backward, update, repeat) obeys it naturally; a
    model with several layers keeps one workspace per layer. What the functions
    return (h, dx, the weight gradients, ``lstm_final_state``) is never memory
    of the workspace. Without a workspace every call allocates afresh.
    """

    def __init__(self):
        self._arrays = {}
        self._generation = 0

    def array(self, name, shape, dtype):
        """The array ``name`` (contents undefined), reused while shape and dtype stay the same."""
        shape, dtype = tuple(shape), np.dtype(dtype)
        arr = self._arrays.get(name)
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            self._arrays.pop(name, None)          # free the old one first
            arr = self._arrays[name] = np.empty(shape, dtype=dtype)
        return arr

    @property
    def nbytes(self):
        """Bytes held by the workspace."""
        return sum(a.nbytes for a in self._arrays.values())

    def clear(self):
        """Release the memory (caches made earlier keep theirs until they are dropped)."""
        self._arrays.clear()


def _array(workspace, name, shape, dtype):
    """A new array, or the workspace's array ``name`` when there is a workspace."""
    if workspace is None:
        return np.empty(shape, dtype=dtype)
    return workspace.array(name, shape, dtype)


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


def lstm_forward(x, h0, Wx, Wh, b, *, c0=None, forget_gate=True, peepholes=None, workspace=None):
    """Forward pass of an LSTM over a whole sequence.

    Parameters
    ----------
    x : (N, T, D)       input sequence
    h0 : (N, H)         initial hidden state
    Wx : (D, 4H), Wh : (H, 4H), b : (4H,)   parameters, gate order i, f, o, g
    c0 : (N, H) or None initial cell state (None means zeros)
    forget_gate : bool  False gives the 1997 LSTM (f = 1)
    peepholes : None or (p_i, p_f, p_o), each (H,)
    workspace : Workspace or None
                        memory to reuse for the cache (see ``Workspace``); the
                        cache of the previous call with the same workspace is
                        then no longer valid

    Returns
    -------
    h : (N, T, H)       hidden states h_1 ... h_T (a new array)
    cache : dict        for ``lstm_backward``. ``lstm_final_state(cache)``
                        gives (h_T, c_T), e.g. to carry the state into the
                        next chunk of a long sequence (truncated BPTT), and
                        ``lstm_states(cache)`` all gates and cell states.

    Step t computes the same numbers as ``lstm.lstm_step_forward(x[:, t],
    h_{t-1}, c_{t-1}, ...)`` up to rounding (the sigmoid is evaluated by an
    equivalent formula, see below).
    """
    x = check_ndim("x", x, 3, "(N, T, D)")
    N, T, D = x.shape
    Wx, Wh, b, H = check_lstm_weights(Wx, Wh, b, D)
    h0 = check_shape("h0", h0, (N, H), "(N, H)")
    if c0 is not None:
        c0 = check_shape("c0", c0, (N, H), "(N, H)")
    peepholes = check_peepholes(peepholes, H)
    dtype = result_dtype(x, h0, c0, Wx, Wh, b, *(peepholes or ()))

    # Optimisation 2: one formula for all four activations. Using
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

    # Optimisation 3: time-major buffers. Internally we index time first, so
    # that everything belonging to step t, e.g. gates[t] of shape (N, 4H), is
    # one contiguous block of memory. All arrays of the cache are allocated
    # here (from the workspace, if there is one): hs[t] is h_t and cs[t] is
    # c_t, with hs[0] = h0 and cs[0] = c0, so h_{t-1} for step t is hs[t].
    if workspace is not None:
        workspace._generation += 1            # older caches of this workspace are now invalid
    x_tm, gates, hs, cs, tanh_cs = (
        _array(workspace, name, shape, dtype) for name, shape in
        [("x_tm", (T, N, D)), ("gates", (T, N, 4 * H)), ("hs", (T + 1, N, H)),
         ("cs", (T + 1, N, H)), ("tanh_cs", (T, N, H))])
    np.copyto(x_tm, x.transpose(1, 0, 2))

    # Optimisation 1: the input part x_t Wx + b does not depend on the
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
        "workspace": workspace, "generation": None if workspace is None else workspace._generation,
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
    workspace = cache["workspace"]
    if workspace is not None and workspace._generation != cache["generation"]:
        raise ValueError(
            "cache is no longer valid: lstm_forward was called again with the same workspace "
            "after it was made, and reused its memory (call lstm_backward before the next "
            "forward pass, or give the two passes separate Workspace objects)")
    x_tm, hs, cs, tanh_cs, gates = (
        cache["x_tm"], cache["hs"], cache["cs"], cache["tanh_cs"], cache["gates"])
    Wx, Wh, peepholes, forget_gate = (
        cache["Wx"], cache["Wh"], cache["peepholes"], cache["forget_gate"])
    T, N, D = x_tm.shape
    H = hs.shape[2]
    dh = check_shape("dh", dh, (N, T, H), "(N, T, H)")
    if dc_T is not None:
        dc_T = check_shape("dc_T", dc_T, (N, H), "(N, H)")
    dtype = result_dtype(cache["dtype"], dh, dc_T)
    if peepholes is not None:
        p_i, p_f, p_o = peepholes

    # One buffer for the gradients w.r.t. all pre-activations da_t (gate order
    # i, f, o, g); the weight gradients are computed from it after the loop.
    # Viewed as (T, N, 4, H), block k of step t is das4[t, :, k]. It is
    # scratch (from the workspace, if there is one).
    das = _array(workspace, "das", (T, N, 4 * H), dtype)
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
    dx_tm = _array(workspace, "dx_tm", (T * N, D), dtype)
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
    """The last hidden and cell state (h_T, c_T), each (N, H), from a forward cache (copies)."""
    return cache["hs"][-1].copy(), cache["cs"][-1].copy()


def lstm_states(cache):
    """All internal states of a forward pass: a dict of new (N, T, H) arrays
    ``i, f, o, g, c, h`` (``f`` is all ones for the 1997 LSTM), as ``lstm.lstm_states``."""
    i, f, o, g = (_to_batch_major(gate) for gate in split_gates(cache["gates"]))
    if not cache["forget_gate"]:
        f = np.ones_like(f)                 # the f block is unused: f = 1
    return {
        "i": i, "f": f, "o": o, "g": g,
        "c": _to_batch_major(cache["cs"][1:]), "h": _to_batch_major(cache["hs"][1:]),
    }
