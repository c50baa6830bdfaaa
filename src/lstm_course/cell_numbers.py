"""The numbers on the wires of one LSTM cell, for one example and one unit.

The cell diagram (``cell_diagram.draw_lstm_cell``) writes a number on each wire.
This module reads those numbers from the package's own step functions, so the
picture cannot disagree with the code:

``wire_values(cache, n, unit)``
    the forward numbers, straight from the cache of ``lstm_step_forward``.
``wire_gradients(cache, dnext_h, dnext_c, n, unit)``
    the backward numbers. The errors at the gates' pre-activations, dc_{t-1},
    dh_{t-1} and dx_t are the outputs of ``lstm_step_backward`` (called on
    example ``n`` alone, so that its ``db`` is that example's ``da``). The
    errors in between (do, the two sources of dc_t, di, df, dg) are the
    chain-rule lines of chapter 6, (6.do) to (6.dcell), written out once
    more so that they can be drawn; the tests check them against
    ``lstm_step_backward`` and against numerical derivatives.

Wire names (forward value / gradient; ``H`` units, gate order i, f, o, g)::

    x        x_t (D,)                 dx_t (D,)
    h_prev   h_{t-1} (H,)             dh_{t-1} (H,)
    c_prev   c_{t-1}                  dc_{t-1}
    a_i, a_f, a_o, a_g  (the branches into the gates)  da_i ... da_g
    i, f, o, g   the gate outputs     di, df, do, dg
    fc       f * c_{t-1}              dc_t (what reaches the product)
    ig       i * g                    dc_t
    c        c_t (after the +)        dc_t, the sum of its two sources:
    c_next   c_t, on to step t+1      dc_t^next  (from c_{t+1}, through f_{t+1})
    c_tanh   c_t, into tanh           dh_t * o * (1 - tanh^2(c_t))  (through h_t)
    tanh_c   tanh(c_t)                dh_t * o
    h        h_t                      dh_t (from y_t and from h_{t+1})

Without a forget gate (the 1997 LSTM) there are no ``f``, ``fc`` and
``a_f`` wires. With peepholes the wires ``p_i``, ``p_f``, ``p_o`` carry the
peephole weights forward, and backward the errors da_i * p_i and da_f * p_f
(into c_{t-1}) and da_o * p_o (into c_t: a third term of dc_t).
"""
import numpy as np

from .lstm import lstm_step_backward

__all__ = ["wire_values", "wire_gradients", "VECTOR_WIRES"]

VECTOR_WIRES = ("x", "h_prev")   # wires that carry a whole vector, not one unit's number

_ROW_KEYS = ("x", "prev_h", "prev_c", "i", "f", "o", "g", "next_c", "tanh_c")


def _check_cache(cache):
    if not isinstance(cache, dict) or "tanh_c" not in cache or "prev_c" not in cache:
        raise ValueError("values must be the cache returned by lstm_step_forward (a dict with "
                         f"keys {_ROW_KEYS}), got {type(cache).__name__}")
    return cache


def _check_index(cache, n, unit):
    N, H = cache["prev_c"].shape
    if not 0 <= int(n) < N:
        raise ValueError(f"n must be an example index in 0..{N - 1}, got {n}")
    if not 0 <= int(unit) < H:
        raise ValueError(f"unit must be in 0..{H - 1} (H = {H}), got {unit}")
    return int(n), int(unit)


def wire_values(cache, n=0, unit=0):
    """The forward numbers of one cell: dict wire name -> float (vectors for x, h_prev).

    Parameters
    ----------
    cache : dict from ``lstm_step_forward`` (arrays of N rows)
    n : int, the example (row) to show
    unit : int, the unit j of the H cells to show

    Returns
    -------
    dict: ``x`` (D,) and ``h_prev`` (H,) arrays (every unit's gates read all of
    them); every other wire one float, entry [n, unit] of the cache.
    """
    cache = _check_cache(cache)
    n, j = _check_index(cache, n, unit)
    forget = cache["forget_gate"]
    i, o, g = (float(cache[k][n, j]) for k in "iog")
    c_prev, c = float(cache["prev_c"][n, j]), float(cache["next_c"][n, j])
    tanh_c = float(cache["tanh_c"][n, j])
    v = {"x": cache["x"][n].copy(), "h_prev": cache["prev_h"][n].copy(),
         "c_prev": c_prev, "i": i, "o": o, "g": g, "ig": i * g,
         "c": c, "c_next": c, "c_tanh": c, "tanh_c": tanh_c, "h": o * tanh_c}
    if forget:
        f = float(cache["f"][n, j])
        v["f"], v["fc"] = f, f * c_prev
    if cache["peepholes"] is not None:
        for name, p in zip(("p_i", "p_f", "p_o"), cache["peepholes"]):
            v[name] = float(p[j])
    return v


def _one_example(cache, n):
    """The cache of example n alone (rows n:n+1), for lstm_step_backward."""
    one = dict(cache)
    for k in _ROW_KEYS:
        if one[k] is not None:
            one[k] = cache[k][n:n + 1]
    return one


def wire_gradients(cache, dnext_h, dnext_c=None, n=0, unit=0):
    """The backward numbers of one cell: dict wire name -> float (vectors for x, h_prev).

    Parameters
    ----------
    cache : dict from ``lstm_step_forward``
    dnext_h : (N, H), the gradient of the loss w.r.t. h_t (from y_t and h_{t+1})
    dnext_c : (N, H) or None, the gradient w.r.t. c_t sent back by step t+1
        (None: zeros, as at the last step)
    n, unit : the example and the unit to show

    Returns
    -------
    dict: ``x`` (D,) = dx_t and ``h_prev`` (H,) = dh_{t-1} of example n;
    every other wire the float gradient of the loss w.r.t. the value on it,
    for unit ``unit`` (see the module docstring for the list).
    """
    cache = _check_cache(cache)
    n, j = _check_index(cache, n, unit)
    N, H = cache["prev_c"].shape
    dnext_h = np.asarray(dnext_h, dtype=float)
    dnext_c = np.zeros((N, H)) if dnext_c is None else np.asarray(dnext_c, dtype=float)
    for name, arr in (("dnext_h", dnext_h), ("dnext_c", dnext_c)):
        if arr.shape != (N, H):
            raise ValueError(f"{name} has shape {arr.shape} but expected (N, H) = ({N}, {H})")

    # What the package computes: lstm_step_backward on example n alone.
    out = lstm_step_backward(dnext_h[n:n + 1], dnext_c[n:n + 1], _one_example(cache, n))
    dx, dprev_h, dprev_c, db = out[0], out[1], out[2], out[5]
    da_i, da_f, da_o, da_g = (float(db[k * H + j]) for k in range(4))   # with N = 1, db = da

    # The chain-rule lines of chapter 6 between them, for unit j.
    i, o, g, tanh_c = (float(cache[k][n, j]) for k in ("i", "o", "g", "tanh_c"))
    dh, dc_next = float(dnext_h[n, j]), float(dnext_c[n, j])
    d = {"x": dx[0], "h_prev": dprev_h[0], "c_prev": float(dprev_c[0, j]),
         "a_i": da_i, "a_o": da_o, "a_g": da_g,
         "h": dh, "c_next": dc_next,
         "tanh_c": dh * o,                            # h = o * tanh(c)
         "o": dh * tanh_c,                            # (6.do)
         "c_tanh": dh * o * (1 - tanh_c ** 2)}        # dc_t's second source, through h_t
    dc = dc_next + d["c_tanh"]                         # (6.dc): the two sources add up
    if cache["peepholes"] is not None:
        p_i, p_f, p_o = (float(p[j]) for p in cache["peepholes"])
        d.update(p_i=da_i * p_i, p_f=da_f * p_f,      # back into c_{t-1}: the gates looked at it
                 p_o=da_o * p_o)                      # back into c_t: o looked at it
        dc += d["p_o"]
    d.update(c=dc, ig=dc, i=dc * g, g=dc * i)          # (6.dcell)
    if cache["forget_gate"]:
        d.update(fc=dc, f=dc * float(cache["prev_c"][n, j]), a_f=da_f)
    return d
