"""Andrej Karpathy's min-char-rnn, as plain functions.

The original (https://gist.github.com/karpathy/d4dee566867f8291f086, BSD
License) is a 112-line script that trains a character-level vanilla RNN. Here
its model is split into functions that take the parameters as an argument, so
the book can call them, test them and compare them with the batched code in
``rnn.py``, ``layers.py`` and ``models.py``.

The numbers are the same as the original ``lossFun`` *without* its final
``np.clip`` line: clipping the gradients is a separate step
(``lstm_course.optim``), not part of computing them.

This file keeps Karpathy's conventions, which differ from the rest of the
package: **column vectors** and one sequence at a time (no batch)::

    x_t  (V, 1)   one-hot input character     h_t (H, 1)   hidden state
    Wxh  (H, V)   input to hidden             Whh (H, H)   hidden to hidden
    Why  (V, H)   hidden to output            bh  (H, 1), by (V, 1)  biases

    h_t = tanh(Wxh x_t + Whh h_{t-1} + bh)
    y_t = Why h_t + by                        scores (logits) for the next char
    p_t = softmax(y_t)                        probabilities for the next char
    loss = sum_t -log p_t[target_t]           summed (not averaged) over time

In the row-vector notation of ``rnn.py`` this is the same model with
Wx = Wxh.T, Wh = Whh.T and b = bh.ravel().
"""
import numpy as np

from ._validate import check_shape, check_ndim

__all__ = ["loss_fun", "sample", "init_params", "make_vocab"]

PARAM_NAMES = ("Wxh", "Whh", "Why", "bh", "by")


def _check_params(params):
    """Validate the parameter dict; return (Wxh, Whh, Why, bh, by, V, H)."""
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {list(PARAM_NAMES)}")
    Wxh = check_ndim("params['Wxh']", params["Wxh"], 2, "(H, V)")
    H, V = Wxh.shape
    Whh = check_shape("params['Whh']", params["Whh"], (H, H), "(H, H)")
    Why = check_shape("params['Why']", params["Why"], (V, H), "(V, H)")
    bh = check_shape("params['bh']", params["bh"], (H, 1), "(H, 1)")
    by = check_shape("params['by']", params["by"], (V, 1), "(V, 1)")
    return Wxh, Whh, Why, bh, by, V, H


def _check_ids(name, ids, V):
    """Check a list of character ids: ints in [0, V)."""
    ids = list(ids)
    for k, ix in enumerate(ids):
        if not isinstance(ix, (int, np.integer)) or not 0 <= ix < V:
            raise ValueError(f"{name}[{k}] = {ix!r} but expected an int in [0, V) = [0, {V})")
    return ids


def loss_fun(inputs, targets, hprev, params):
    """Forward and backward pass of min-char-rnn over one chunk of text.

    Inputs:
        inputs   list of T ints, the input characters (ids in [0, V))
        targets  list of T ints, the characters to predict: targets[t] is
                 the character that follows inputs[t]
        hprev    (H, 1)  hidden state before the first input
        params   dict with Wxh (H, V), Whh (H, H), Why (V, H), bh (H, 1), by (V, 1)

    Returns:
        loss     float, the cross-entropy summed over the T steps
        grads    dict with dWxh, dWhh, dWhy, dbh, dby (same shapes as the params)
        h_last   (H, 1)  the last hidden state, the hprev of the next chunk
    """
    Wxh, Whh, Why, bh, by, V, H = _check_params(params)
    hprev = check_shape("hprev", hprev, (H, 1), "(H, 1)")
    inputs = _check_ids("inputs", inputs, V)
    targets = _check_ids("targets", targets, V)
    if len(inputs) != len(targets) or len(inputs) == 0:
        raise ValueError(
            f"inputs has length {len(inputs)} and targets has length {len(targets)}; "
            "expected the same length T >= 1"
        )
    T = len(inputs)

    xs, hs, ps = {}, {}, {}
    hs[-1] = np.copy(hprev)  # hs[-1] is h before the first step (a dict key, not Python's "last")
    loss = 0.0

    # ---- forward pass ----
    for t in range(T):
        xs[t] = np.zeros((V, 1), dtype=Wxh.dtype)  # one-hot encoding of the input character
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)  # (H, 1) hidden state
        y = Why @ hs[t] + by  # (V, 1) scores for the next character
        e = np.exp(y - np.max(y))  # shifting by the max avoids overflow; p is unchanged
        ps[t] = e / np.sum(e)  # (V, 1) probabilities for the next character
        loss += -np.log(ps[t][targets[t], 0])  # cross-entropy: -log p(correct char)

    # ---- backward pass: from the last step back to the first ----
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])  # gradient arriving at h_t from step t + 1 (none after the last)
    for t in reversed(range(T)):
        # The initial error signal. For loss = -log p[k] with p = softmax(y):
        #     dloss/dy_j = p_j - 1   if j == k   (the target)
        #                = p_j       otherwise,
        # i.e. dy = p - onehot(target): "predicted minus wanted". It is
        # small when the model already puts probability near 1 on the target.
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dhnext  # h_t feeds the output AND the next step: gradients add
        dhraw = (1 - hs[t] * hs[t]) * dh  # through tanh: tanh' = 1 - h**2
        dbh += dhraw
        # The same weights are used at every step, so their gradients add up over time.
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw  # send the gradient back to h_{t-1}

    # (The original clips each gradient to [-5, 5] here; we leave that to optim.py.)
    grads = {"dWxh": dWxh, "dWhh": dWhh, "dWhy": dWhy, "dbh": dbh, "dby": dby}
    return float(loss), grads, hs[T - 1]


def sample(h, seed_ix, n, params, temperature=1.0, rng=None):
    """Generate n character ids from the model, one at a time.

    Inputs:
        h            (H, 1)  hidden state to start from
        seed_ix      int, the first input character
        n            int, how many characters to generate
        params       dict as for loss_fun
        temperature  float > 0; the scores are divided by it before the
                     softmax. 1 samples the model's distribution, < 1 makes it
                     more confident (as temperature -> 0 it picks the argmax),
                     > 1 flatter (more random).
        rng          numpy Generator, an int seed, or None (fresh entropy).
                     The same seed gives the same sample.

    Returns:
        list of n ints (the seed is not included)
    """
    Wxh, Whh, Why, bh, by, V, H = _check_params(params)
    h = check_shape("h", h, (H, 1), "(H, 1)")
    _check_ids("seed_ix", [seed_ix], V)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    rng = np.random.default_rng(rng)

    x = np.zeros((V, 1), dtype=Wxh.dtype)
    x[seed_ix] = 1
    ixes = []
    for _ in range(n):
        h = np.tanh(Wxh @ x + Whh @ h + bh)
        y = (Why @ h + by) / temperature
        e = np.exp(y - np.max(y))
        p = (e / np.sum(e)).ravel().astype(np.float64)
        ix = int(rng.choice(V, p=p / p.sum()))  # re-normalise in float64 for rng.choice
        x = np.zeros((V, 1), dtype=Wxh.dtype)
        x[ix] = 1
        ixes.append(ix)
    return ixes


def init_params(V, H, rng=None, scale=0.01, dtype=np.float64):
    """Min-char-rnn's initialisation: small random weights, zero biases.

    Returns a dict Wxh (H, V), Whh (H, H), Why (V, H) ~ scale * N(0, 1) and
    bh (H, 1), by (V, 1) = 0. ``rng``: Generator, int seed or None.
    """
    rng = np.random.default_rng(rng)
    return {
        "Wxh": (rng.standard_normal((H, V)) * scale).astype(dtype),
        "Whh": (rng.standard_normal((H, H)) * scale).astype(dtype),
        "Why": (rng.standard_normal((V, H)) * scale).astype(dtype),
        "bh": np.zeros((H, 1), dtype=dtype),
        "by": np.zeros((V, 1), dtype=dtype),
    }


def make_vocab(text):
    """Build the character vocabulary of a text.

    Returns (chars, char_to_ix, ix_to_char): the distinct characters, sorted
    (the original uses ``list(set(data))``, whose order changes from run to
    run; sorting makes ids reproducible), and the two lookup dicts.

    >>> chars, char_to_ix, ix_to_char = make_vocab("hello")
    >>> chars, char_to_ix["l"], ix_to_char[0]
    (['e', 'h', 'l', 'o'], 2, 'e')
    """
    chars = sorted(set(text))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    ix_to_char = {i: ch for i, ch in enumerate(chars)}
    return chars, char_to_ix, ix_to_char
