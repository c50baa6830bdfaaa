"""Small models and LSTM variants for the paper lab (chapter 8).

Two pieces:

1. **LSTM variants** in the spirit of Greff et al. (2017), "LSTM: A Search
   Space Odyssey", as a forward/backward pair over a whole sequence:
   :func:`lstm_variant_forward` / :func:`lstm_variant_backward`. Each variant
   changes one thing of the plain LSTM of ``lstm.py`` (gate order i, f, o, g)::

       "vanilla"  c_t = f * c_{t-1} + i * g      h_t = o * tanh(c_t)
       "NFG"      no forget gate: f = 1           (= lstm_forward(forget_gate=False))
       "NOAF"     no output activation:            h_t = o * c_t
       "CIFG"     coupled input and forget gate:   f = 1 - i

   All variants keep the parameter layout ``Wx (D, 4H), Wh (H, 4H), b (4H,)``;
   NFG and CIFG do not use the f block, whose gradients are then exactly 0
   (as in ``lstm.py`` with ``forget_gate=False``). "vanilla" and "NFG" give
   the same numbers as ``lstm_fast.lstm_forward``; they are here so that
   the four variants share one implementation (and a test compares them).
   Peepholes are not a variant of this function: use ``lstm_forward(...,
   peepholes=...)``, as :class:`NextSymbolLSTM` does for ``variant="PH"``.

2. **Two small models** with the ``parameters`` / ``loss_and_grads``
   interface of :func:`lstm_course.train.train`:

   * :class:`LastStepRegressor` -- RNN or LSTM, then an affine map of the
     LAST hidden state to one number, trained with the mean squared error:
     the model of the adding problem (Hochreiter & Schmidhuber 1997).
   * :class:`NextSymbolLSTM` -- an LSTM variant with a softmax over the next
     symbol at every step; the state is carried from chunk to chunk
     (truncated BPTT), for continual streams such as the continual embedded
     Reber grammar (Gers, Schmidhuber & Cummins 2000).
"""
import numpy as np

from ._validate import check_ndim, check_shape
from .activations import sigmoid
from .layers import (
    affine_backward,
    affine_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)
from .lstm_fast import lstm_backward, lstm_final_state, lstm_forward
from .rnn import rnn_backward, rnn_forward

__all__ = [
    "VARIANTS",
    "lstm_variant_forward",
    "lstm_variant_backward",
    "LastStepRegressor",
    "NextSymbolLSTM",
]

VARIANTS = ("vanilla", "NFG", "NOAF", "CIFG")
"""The variants of :func:`lstm_variant_forward`."""


_PACKAGE_VARIANTS = ("vanilla", "NFG", "PH")   # NextSymbolLSTM runs these with lstm_fast.py


def _check_variant(variant):
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return variant


# ----------------------------------------------------------------------------
# LSTM variants
# ----------------------------------------------------------------------------
def lstm_variant_forward(x, h0, Wx, Wh, b, *, c0=None, variant="vanilla"):
    """Forward pass of an LSTM variant over a sequence.

    Parameters
    ----------
    x : (N, T, D); h0 : (N, H); Wx : (D, 4H); Wh : (H, 4H); b : (4H,)
    c0 : (N, H) or None (zeros)
    variant : "vanilla", "NFG", "NOAF" or "CIFG" (see the module docstring)

    Returns
    -------
    h : (N, T, H) and a cache for :func:`lstm_variant_backward`. The final
    state is ``cache["h"][:, -1]`` and ``cache["c"][:, -1]``.
    """
    variant = _check_variant(variant)
    x = check_ndim("x", x, 3, "(N, T, D)")
    N, T, D = x.shape
    Wh = check_ndim("Wh", Wh, 2, "(H, 4H)")
    H = Wh.shape[0]
    Wh = check_shape("Wh", Wh, (H, 4 * H), "(H, 4H)")
    Wx = check_shape("Wx", Wx, (D, 4 * H), "(D, 4H)")
    b = check_shape("b", b, (4 * H,), "(4H,)")
    h0 = check_shape("h0", h0, (N, H), "(N, H)")
    c0 = np.zeros((N, H)) if c0 is None else check_shape("c0", c0, (N, H), "(N, H)")

    xa = x @ Wx + b                                  # (N, T, 4H): input part, all steps
    gates = np.empty((N, T, 4, H))                   # i, f, o, g per step
    c = np.empty((N, T + 1, H))
    h = np.empty((N, T + 1, H))
    h[:, 0], c[:, 0] = h0, c0
    for t in range(T):
        a = xa[:, t] + h[:, t] @ Wh
        i = sigmoid(a[:, :H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        if variant == "NFG":
            f = np.ones_like(i)                      # the 1997 LSTM
        elif variant == "CIFG":
            f = 1.0 - i                              # one gate decides both
        else:
            f = sigmoid(a[:, H:2 * H])
        c[:, t + 1] = f * c[:, t] + i * g
        act = c[:, t + 1] if variant == "NOAF" else np.tanh(c[:, t + 1])
        h[:, t + 1] = o * act
        gates[:, t, 0], gates[:, t, 1], gates[:, t, 2], gates[:, t, 3] = i, f, o, g
    cache = {"x": x, "h": h, "c": c, "gates": gates, "Wx": Wx, "Wh": Wh, "variant": variant}
    return h[:, 1:].copy(), cache


def lstm_variant_backward(dh, cache, *, dc_T=None):
    """Backward pass of :func:`lstm_variant_forward` (BPTT).

    Parameters
    ----------
    dh : (N, T, H)      gradient of the loss w.r.t. every h_t
    cache               from :func:`lstm_variant_forward`
    dc_T : (N, H) or None   gradient w.r.t. the final cell state

    Returns
    -------
    ``(dx, dh0, dc0, dWx, dWh, db)`` with the shapes of x, h0, c0, Wx, Wh, b.
    For NFG and CIFG the f columns (``H:2H``) of dWx, dWh and db are 0.
    """
    x, h, c, gates = cache["x"], cache["h"], cache["c"], cache["gates"]
    Wx, Wh, variant = cache["Wx"], cache["Wh"], cache["variant"]
    N, T, D = x.shape
    H = Wh.shape[0]
    dh = check_shape("dh", dh, (N, T, H), "(N, T, H)")
    da = np.zeros((N, T, 4 * H))
    dnext_h = np.zeros((N, H))
    dc = np.zeros((N, H)) if dc_T is None else check_shape("dc_T", dc_T, (N, H), "(N, H)").copy()
    for t in range(T - 1, -1, -1):
        i, f, o, g = gates[:, t, 0], gates[:, t, 1], gates[:, t, 2], gates[:, t, 3]
        c_prev, c_t = c[:, t], c[:, t + 1]
        dh_t = dh[:, t] + dnext_h
        # h_t = o * act(c_t)
        if variant == "NOAF":
            act, dact = c_t, 1.0
        else:
            act = np.tanh(c_t)
            dact = 1.0 - act ** 2
        da_o = dh_t * act * o * (1 - o)
        dc = dc + dh_t * o * dact
        # c_t = f * c_{t-1} + i * g
        di = dc * g
        if variant == "CIFG":
            di = di - dc * c_prev                    # f = 1 - i: df/di = -1
        da[:, t, :H] = di * i * (1 - i)
        if variant in ("vanilla", "NOAF"):
            da[:, t, H:2 * H] = dc * c_prev * f * (1 - f)
        da[:, t, 2 * H:3 * H] = da_o
        da[:, t, 3 * H:] = dc * i * (1 - g ** 2)
        dc = dc * f                                  # dc_{t-1} = f * dc_t
        dnext_h = da[:, t] @ Wh.T
    da2 = da.reshape(N * T, 4 * H)
    dWx = x.reshape(N * T, D).T @ da2
    dWh = h[:, :T].reshape(N * T, H).T @ da2
    db = da2.sum(axis=0)
    dx = da @ Wx.T
    return dx, dnext_h, dc, dWx, dWh, db


# ----------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------
def _init_recurrent(rng, D, H, gates):
    """Weights ~ N(0, 1/fan_in) for a layer with `gates` blocks of H columns."""
    Wx = rng.standard_normal((D, gates * H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, gates * H)) / np.sqrt(H)
    return Wx, Wh


class LastStepRegressor:
    """RNN or LSTM -> affine map of the LAST hidden state -> one number.

    ``LastStepRegressor(cell="lstm", D=2, H=16, seed=0, forget_bias=1.0)``

    Parameters (``self.parameters``): ``Wx, Wh, b`` of the recurrent layer
    (4H columns for the LSTM, H for the RNN), ``Wy (H, 1)``, ``by (1,)``.
    ``predict(x)`` maps x (N, T, D) to y_hat (N,); ``loss_and_grads(x, y)``
    returns the mean squared error ``mean((y_hat - y)^2)`` and its gradients.
    Every sequence starts from h0 = c0 = 0 (the state argument is ignored
    and returned as None): the sequences are independent.
    """

    def __init__(self, cell="lstm", D=2, H=16, seed=0, forget_bias=1.0):
        if cell not in ("lstm", "rnn"):
            raise ValueError(f"cell must be 'lstm' or 'rnn', got {cell!r}")
        self.cell, self.D, self.H = cell, int(D), int(H)
        rng = np.random.default_rng(seed)
        G = 4 if cell == "lstm" else 1
        Wx, Wh = _init_recurrent(rng, self.D, self.H, G)
        b = np.zeros(G * self.H)
        if cell == "lstm":
            b[self.H:2 * self.H] = forget_bias       # remember by default (gate order i, f, o, g)
        self.parameters = {"Wx": Wx, "Wh": Wh, "b": b,
                           "Wy": rng.standard_normal((self.H, 1)) / np.sqrt(self.H),
                           "by": np.zeros(1)}

    def _forward(self, x):
        p = self.parameters
        h0 = np.zeros((x.shape[0], self.H))
        if self.cell == "lstm":
            h, cache = lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        else:
            h, cache = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        y_hat, out_cache = affine_forward(h[:, -1], p["Wy"], p["by"])
        return y_hat[:, 0], (h.shape, cache, out_cache)

    def predict(self, x):
        """Predictions y_hat (N,) for inputs x (N, T, D)."""
        return self._forward(x)[0]

    def loss_and_grads(self, x, y, state=None):
        """Mean squared error on (x (N, T, D), y (N,)) and its gradients."""
        y = np.asarray(y, dtype=float)
        y_hat, (h_shape, cache, out_cache) = self._forward(x)
        diff = y_hat - y
        loss = float(np.mean(diff ** 2))
        dy = (2.0 / diff.size) * diff[:, None]       # d mean(diff^2) / d y_hat
        grads = {}
        dh_last, grads["Wy"], grads["by"] = affine_backward(dy, out_cache)
        dh = np.zeros(h_shape)
        dh[:, -1] = dh_last                          # only h_T is read by the loss
        if self.cell == "lstm":
            _, _, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dh, cache)
        else:
            _, _, grads["Wx"], grads["Wh"], grads["b"] = rnn_backward(dh, cache)
        return loss, {k: grads[k] for k in self.parameters}, None


class NextSymbolLSTM:
    """An LSTM variant with a softmax over the next symbol at every step.

    ``NextSymbolLSTM(V=7, H=8, variant="vanilla", seed=0, forget_bias=1.0)``

    ``variant``: one of :data:`VARIANTS`, or ``"PH"`` (the plain LSTM with
    peephole connections, computed by the package's ``lstm_forward``; its
    parameters then include ``p_i, p_f, p_o`` of shape (H,)).

    ``loss_and_grads(x, y, state)`` with one-hot inputs x (N, T, V), integer
    targets y (N, T) and ``state`` = None (zeros) or the ``(h, c)`` returned by
    the previous call (truncated BPTT: the forward pass continues the stream,
    the gradient stops at the chunk boundary). ``predict_proba(x, state)``
    returns the softmax probabilities (N, T, V) and the final state.
    """

    def __init__(self, V=7, H=8, variant="vanilla", seed=0, forget_bias=1.0):
        if variant != "PH":
            _check_variant(variant)
        self.V, self.H, self.variant = int(V), int(H), variant
        rng = np.random.default_rng(seed)
        Wx, Wh = _init_recurrent(rng, self.V, self.H, 4)
        b = np.zeros(4 * self.H)
        if variant not in ("NFG", "CIFG"):           # these two have no forget-gate bias
            b[self.H:2 * self.H] = forget_bias
        self.parameters = {"Wx": Wx, "Wh": Wh, "b": b,
                           "Wy": rng.standard_normal((self.H, self.V)) / np.sqrt(self.H),
                           "by": np.zeros(self.V)}
        if variant == "PH":
            for k in ("p_i", "p_f", "p_o"):
                self.parameters[k] = rng.normal(0.0, 0.1, self.H)

    def _forward(self, x, state):
        p = self.parameters
        N = x.shape[0]
        if state is None:
            h0, c0 = np.zeros((N, self.H)), np.zeros((N, self.H))
        else:
            h0, c0 = state
        if self.variant in _PACKAGE_VARIANTS:   # the package's faster lstm_forward
            peep = (p["p_i"], p["p_f"], p["p_o"]) if self.variant == "PH" else None
            h, cache = lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"], c0=c0, peepholes=peep,
                                    forget_gate=self.variant != "NFG")
            final = lstm_final_state(cache)
        else:
            h, cache = lstm_variant_forward(x, h0, p["Wx"], p["Wh"], p["b"], c0=c0,
                                            variant=self.variant)
            final = (cache["h"][:, -1].copy(), cache["c"][:, -1].copy())
        scores, out_cache = temporal_affine_forward(h, p["Wy"], p["by"])
        return scores, (cache, out_cache), final

    def predict_proba(self, x, state=None):
        """Softmax probabilities (N, T, V) of the next symbol, and the final (h, c)."""
        scores, _, final = self._forward(x, state)
        e = np.exp(scores - scores.max(axis=2, keepdims=True))
        return e / e.sum(axis=2, keepdims=True), final

    def loss_and_grads(self, x, y, state=None):
        """Mean cross-entropy per step on one chunk, its gradients and the final state."""
        scores, (cache, out_cache), final = self._forward(x, state)
        loss, dscores = temporal_softmax_loss(scores, y)
        grads = {}
        dh, grads["Wy"], grads["by"] = temporal_affine_backward(dscores, out_cache)
        if self.variant == "PH":
            _, _, grads["Wx"], grads["Wh"], grads["b"], dpeep = lstm_backward(dh, cache)
            grads["p_i"], grads["p_f"], grads["p_o"] = dpeep
        elif self.variant in _PACKAGE_VARIANTS:
            _, _, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dh, cache)
        else:
            _, _, _, grads["Wx"], grads["Wh"], grads["b"] = lstm_variant_backward(dh, cache)
        return loss, {k: grads[k] for k in self.parameters}, final
