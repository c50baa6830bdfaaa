"""The LSTM step backward with one typical mistake switched on (diagnosis only).

:func:`step_variant` is the chapter-6 derivation line by line; each key of
:data:`STEP_BUGS` changes one line, and its value is the sentence that names the
mistake. They are the hypotheses of the ``lstm_step_backward`` check and, run inside
:func:`._bptt.bptt_variant`, of the ``lstm_backward`` check. The mistakes include those
that published from-scratch LSTMs shipped: sigma(a) where sigma'(a) belongs (a forgotten
``derivative=True``), one gate's delta copied into another gate's block, ``=``
where ``+=`` belongs for the cell gradient, and the backward of a cell without the output
tanh (``h_t = o * c_t``, Greff et al.'s NOAF variant, as in Nico's widely copied
``ds = self.state.o * top_diff_h + top_diff_s``) pasted into the course's cell.
"""
import itertools

import numpy as np

__all__ = ["GATES", "STEP_BUGS", "step_variant", "gate_order_variants"]

GATES = ("i", "f", "o", "g")
_DELTA = {"i": "da_i = dc * g * i * (1 - i)", "f": "da_f = dc * prev_c * f * (1 - f)",
          "o": "da_o = dnext_h * tanh_c * o * (1 - o)", "g": "da_g = dc * i * (1 - g**2)"}


def step_variant(dnext_h, dnext_c, cache, bug=None, order=GATES):
    """(dx, dprev_h, dprev_c, dWx, dWh, db) of one LSTM step with the mistake ``bug``.

    ``order`` is the order in which the four gate blocks are concatenated into da.
    """
    x, prev_h, prev_c = cache["x"], cache["prev_h"], cache["prev_c"]
    Wx, Wh = cache["Wx"], cache["Wh"]
    i, f, o, g, next_c, tanh_c = (cache[k] for k in ("i", "f", "o", "g", "next_c", "tanh_c"))
    tc = np.tanh(prev_c) if bug == "tanh_prev_c" else tanh_c
    noaf = bug in ("noaf_dc", "noaf")                    # a backward for h_t = o * c_t
    do = dnext_h * (next_c if bug == "noaf" else tc)
    dtanh = tanh_c if bug == "dc_tanh_not_prime" else 1.0 if noaf else (1 - tc ** 2)
    dc_h = dnext_h * o * dtanh
    dc = {"no_dnext_c": dc_h, "no_h_path": dnext_c}.get(bug, dnext_c + dc_h)
    delta = {"i": dc * g, "f": dc * (next_c if bug == "df_next_c" else prev_c), "o": do, "g": dc * i}
    value = {"i": i, "f": f, "o": o, "g": g}
    deriv = {k: value[k] * (1 - value[k]) for k in "ifo"}
    deriv["g"] = (1 - g) if bug == "tanh_prime_g" else (1 - g ** 2)
    if bug == "sigmoid_prime_raw":
        deriv.update({k: 1 - value[k] for k in "ifo"})
    if bug and bug.startswith("value_not_prime_"):       # sigma(a) where sigma'(a) belongs
        deriv.update({k: value[k] for k in bug[len("value_not_prime_"):]})
    if bug and bug.startswith("no_prime_"):              # the derivative left out
        deriv.update({k: 1.0 for k in bug[len("no_prime_"):]})
    d = {k: delta[k] * deriv[k] for k in GATES}
    if bug and bug.startswith("copy_"):                  # copy_<src><dst>: da_dst = da_src
        d[bug[6]] = d[bug[5]]
    dprev_c = {"dprev_c_no_f": dc, "dprev_c_zero": np.zeros_like(dc)}.get(bug, dc * f)
    da = np.concatenate([d[k] for k in order], axis=1)
    db = {"db_first_row": da[0], "db_mean": da.mean(axis=0)}.get(bug, da.sum(axis=0))
    h_in = o * tanh_c if bug == "dWh_h_t" else prev_h
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, h_in.T @ da, db


def _gates(s):
    return ", ".join(s[:-1]) + " and " + s[-1] if len(s) > 1 else s


STEP_BUGS = {
    "no_dnext_c": "you lost the gradient dnext_c that arrives from the future (step t+1), an "
                  "`=` where `+=` belongs: dc = dnext_c + dnext_h * o * (1 - tanh_c**2)",
    "no_h_path": "dc is missing the part that flows through h_t = o * tanh(c_t): "
                 "dc = dnext_c + dnext_h * o * (1 - tanh_c**2)",
    "dc_tanh_not_prime": "dc uses tanh(c_t) where its derivative belongs: "
                         "dc = dnext_c + dnext_h * o * (1 - tanh_c**2), not ... * o * tanh_c",
    "noaf_dc": "dc is missing the tanh derivative: dc = dnext_c + dnext_h * o is the line of "
               "a cell without the output tanh, h_t = o * c_t (Nico's `ds = self.state.o * "
               "top_diff_h + top_diff_s`; Greff et al. call that variant NOAF); the course's "
               "cell has h_t = o * tanh(c_t), so dc = dnext_c + dnext_h * o * (1 - tanh_c**2)",
    "noaf": "your step backward is the one of a cell without the output tanh, h_t = o * c_t "
            "(Nico's `ds = self.state.o * top_diff_h + top_diff_s` and `do = self.state.s * "
            "top_diff_h`; Greff et al.'s NOAF variant), right for that model but not for the "
            "course's h_t = o * tanh(c_t): dc = dnext_c + dnext_h * o * (1 - tanh_c**2) and "
            "do = dnext_h * tanh_c",
    "tanh_prev_c": "you used tanh(prev_c) where tanh(c_t) belongs: h_t = o * tanh(c_t) uses "
                   "the NEW cell state (it is in the cache as tanh_c)",
    "df_next_c": "df must use the OLD cell state: c_t = f * c_{t-1} + i * g, so "
                 "df = dc * prev_c, not dc * next_c",
    "tanh_prime_g": "tanh'(a_g) = 1 - g**2, not 1 - g",
    "sigmoid_prime_raw": "sigma'(a) = sigma(a) * (1 - sigma(a)): for the gate i it is "
                         "i * (1 - i), not (1 - i)",
    "dprev_c_no_f": "dprev_c = dc * f: the cell state is multiplied by f on its way to c_t, so "
                    "its gradient is too (dc_t/dc_{t-1} = f)",
    "dprev_c_zero": "dprev_c is zero: c_{t-1} reaches c_t through f, so dprev_c = dc * f "
                    "(the cell gradient the carousel carries back)",
    "db_first_row": "db must be summed over the batch axis: db = da.sum(axis=0)",
    "db_mean": "db is the MEAN of da over the batch; b is added to every row, so its gradient "
               "is the sum: db = da.sum(axis=0)",
    "dWh_h_t": "dWh uses h_t: a_t = x_t Wx + h_{t-1} Wh + b, so dWh = prev_h.T @ da "
               "(h_{t-1}, the state the step received), not (o * tanh_c).T @ da",
}
for _s in ("i", "f", "o", "ifo"):
    STEP_BUGS["value_not_prime_" + _s] = (
        f"you multiplied by sigma(a) where sigma'(a) belongs (a forgotten derivative=True?) "
        f"for the gate{'s' if len(_s) > 1 else ''} {_gates(_s)}: "
        + "; ".join(_DELTA[k] for k in _s))
    STEP_BUGS["no_prime_" + _s] = (
        f"the sigmoid's derivative is missing for the gate{'s' if len(_s) > 1 else ''} "
        f"{_gates(_s)}: " + "; ".join(_DELTA[k] for k in _s))
STEP_BUGS["value_not_prime_g"] = ("you multiplied by tanh(a_g) = g where its derivative "
                                  "belongs: " + _DELTA["g"])
STEP_BUGS["no_prime_g"] = "the tanh derivative of the candidate is missing: " + _DELTA["g"]
for _src, _dst in itertools.permutations(GATES, 2):
    STEP_BUGS[f"copy_{_src}{_dst}"] = (
        f"the {_dst} block of da holds the {_src} gate's delta (copied from the line above?): "
        + _DELTA[_dst])


def gate_order_variants():
    """(order, sentence) for every other concatenation order of the four gate blocks."""
    return [(perm, f"your da has its four gate blocks in the order {', '.join(perm)}; the "
                   "course concatenates da = [da_i, da_f, da_o, da_g] (the order of the "
                   "columns of Wx, Wh and b)")
            for perm in itertools.permutations(GATES) if perm != GATES]
