"""Backpropagation through time with one typical loop mistake switched on (diagnosis only).

Chapter 1 (vanilla RNN) and chapter 6 (LSTM) ask for the same loop around a step
backward. :func:`bptt_variant` is that loop, written once, with the classic mistakes
as ``mode``; ``step`` can itself be a wrong step backward, so a loop mistake and a step
mistake are hypotheses of the same kind. :data:`LOOP_HINTS` says what each mode means,
in the book's notation.
"""
import numpy as np

__all__ = ["bptt_variant", "LOOP_HINTS"]


def bptt_variant(dh, caches, step, cell, mode=None):
    """Outputs (dx, dh0, dWx, dWh, db) of BPTT with the loop mistake ``mode``, and the
    list of the T per-step weight gradients (dWx_t, dWh_t, db_t) of the correct loop.

    dh (N, T, H); caches: the T step caches; ``step(dnext_h, cache)`` for the RNN
    (``cell=False``), ``step(dnext_h, dnext_c, cache)`` for the LSTM (``cell=True``),
    returning (dx, dprev_h[, dprev_c], dWx, dWh, db). ``mode`` is None (correct) or a
    key of :data:`LOOP_HINTS`.
    """
    N, T, H = dh.shape
    zeros = np.zeros((N, H))
    carry_h, carry_c, older_h, older_c = zeros, zeros, zeros, zeros
    dx, sums, per_step = [None] * T, None, [None] * T
    for t in (range(T) if mode == "forward_in_time" else reversed(range(T))):
        dh_t = dh[:, t - 1] if mode == "dh_shifted" else dh[:, t]
        cache = caches[t - 1] if mode == "cache_shifted" else caches[t]
        up_h = {"no_dh_t": carry_h, "no_dprev_h": dh_t}.get(mode, dh_t + carry_h)
        if cell:
            up_c = zeros if mode == "no_dc" else carry_c
            if mode == "carries_swapped":
                up_h, up_c = dh_t + carry_c, carry_h
            dx[t], new_h, new_c, *dW = step(up_h, up_c, cache)
        else:
            dx[t], new_h, *dW = step(up_h, cache)
            new_c = zeros
        per_step[t] = dW
        sums = dW if sums is None or mode == "overwrite" else [s + d for s, d in zip(sums, dW)]
        if mode == "carry_delayed":
            carry_h, carry_c, older_h, older_c = older_h, older_c, new_h, new_c
        else:
            carry_h, carry_c = new_h, new_c
    dh0 = carry_c if mode == "carries_swapped" else carry_h
    if mode == "dh0_plus_dh":
        dh0 = dh0 + dh[:, 0]
    return (np.stack(dx, axis=1), dh0, *sums), per_step


LOOP_HINTS = {
    "overwrite": "equals the gradient of ONE time step: Wx, Wh and b are shared by all T steps, "
                 "so their gradients are SUMMED over t (+=, initialised once before the loop)",
    "no_dc": "the cell-state gradient is not carried back in time: the dprev_c of step t is the "
             "dnext_c of step t-1 (zeros only at the last step); an `=` where `+=` belongs "
             "(dc = ... instead of dc += ...) loses it the same way",
    "no_dh_t": "h_t receives gradient from the loss at step t as well: add dh[:, t] to the "
               "dprev_h coming from step t+1",
    "no_dprev_h": "h_t also feeds step t+1: add the dprev_h returned by step t+1 to dh[:, t]",
    "forward_in_time": "the loop must run backwards in time, t = T-1, ..., 0: step t needs "
                       "what step t+1 sends back",
    "cache_shifted": "off by one step: step t must use its own cache, caches[t], not caches[t-1]",
    "dh_shifted": "off by one step: step t receives dh[:, t] (the loss gradient of ITS output "
                  "h_t), not dh[:, t-1]",
    "carry_delayed": "off by one step: the carry is a step late; what step t+1 returns "
                     "(dprev_h, dprev_c) must enter step t, the very next one",
    "dh0_plus_dh": "dh0 is only what step 0 sends back (its dprev_h); dh[:, 0] is the gradient "
                   "of h[:, 0], the OUTPUT of step 0, and already entered step 0",
    "carries_swapped": "the two carries are swapped: step t's dprev_h is the dnext_h of step "
                       "t-1 and its dprev_c is the dnext_c (mind the order of the returned values)",
}
