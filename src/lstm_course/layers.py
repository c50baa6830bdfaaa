"""Layers around the recurrent core: affine maps, the softmax loss, one-hot and embeddings.

Shapes (batch-major)::

    N  batch size      T  time steps      D  input size
    M  output size     V  vocabulary size

A character model is: characters (N, T) ints -> one-hot or embedding (N, T, D)
-> RNN/LSTM (N, T, H) -> temporal affine (N, T, V) scores -> softmax loss.

Each ``*_forward`` returns ``(out, cache)``; each ``*_backward`` takes the
upstream gradient ``dout`` (same shape as ``out``) and the cache.
"""
import numpy as np

from ._validate import check_ndim, check_shape

__all__ = [
    "affine_forward",
    "affine_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "temporal_softmax_loss",
    "one_hot",
    "embedding_forward",
    "embedding_backward",
]


def _check_indices(name, idx, V, shape=None, shape_desc=None):
    """Return ``idx`` as an integer array with values in [0, V), or raise ValueError."""
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise ValueError(
            f"{name} must be an integer array of indices in [0, {V}), "
            f"got dtype {idx.dtype} with shape {idx.shape}"
        )
    if shape is not None and idx.shape != tuple(shape):
        raise ValueError(f"{name} has shape {idx.shape} but expected {shape_desc} = {tuple(shape)}")
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        raise ValueError(
            f"{name} (shape {idx.shape}) has values in [{idx.min()}, {idx.max()}] "
            f"but expected indices in [0, V) = [0, {V})"
        )
    return idx


# ----------------------------------------------------------------------------
# Affine: out = x w + b
# ----------------------------------------------------------------------------


def affine_forward(x, w, b):
    """Affine (fully connected) layer: out = x w + b.

    Inputs:  x (N, D), w (D, M), b (M,)
    Returns: out (N, M), cache (x, w)
    """
    x = check_ndim("x", x, 2, "(N, D)")
    D = x.shape[1]
    w = check_ndim("w", w, 2, "(D, M)")
    M = w.shape[1]
    w = check_shape("w", w, (D, M), "(D, M)")
    b = check_shape("b", b, (M,), "(M,)")
    out = x @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    """Backward pass of affine_forward.

    Inputs:  dout (N, M), cache from affine_forward
    Returns: dx (N, D), dw (D, M), db (M,)
    """
    x, w = cache
    dout = check_shape("dout", dout, (x.shape[0], w.shape[1]), "(N, M)")
    dx = dout @ w.T  # (N, D)
    dw = x.T @ dout  # (D, M)
    db = dout.sum(axis=0)  # (M,)  b is broadcast over the batch
    return dx, dw, db


# ----------------------------------------------------------------------------
# Temporal affine: the same affine map applied at every time step
# ----------------------------------------------------------------------------


def temporal_affine_forward(x, w, b):
    """Apply the same affine map at every time step: out[:, t] = x[:, t] w + b.

    Inputs:  x (N, T, D), w (D, M), b (M,)
    Returns: out (N, T, M), cache (x, w)
    """
    x = check_ndim("x", x, 3, "(N, T, D)")
    D = x.shape[2]
    w = check_ndim("w", w, 2, "(D, M)")
    M = w.shape[1]
    w = check_shape("w", w, (D, M), "(D, M)")
    b = check_shape("b", b, (M,), "(M,)")
    out = x @ w + b  # matmul acts on the last axis: (N, T, D) @ (D, M) -> (N, T, M)
    return out, (x, w)


def temporal_affine_backward(dout, cache):
    """Backward pass of temporal_affine_forward.

    Inputs:  dout (N, T, M), cache from temporal_affine_forward
    Returns: dx (N, T, D), dw (D, M), db (M,)

    w and b are shared over the T steps (and the N sequences), so their
    gradients are sums over both axes.
    """
    x, w = cache
    N, T, D = x.shape
    M = w.shape[1]
    dout = check_shape("dout", dout, (N, T, M), "(N, T, M)")
    dx = dout @ w.T  # (N, T, D)
    dw = x.reshape(N * T, D).T @ dout.reshape(N * T, M)  # (D, M) summed over N and T
    db = dout.sum(axis=(0, 1))  # (M,)
    return dx, dw, db


# ----------------------------------------------------------------------------
# Softmax cross-entropy over a sequence
# ----------------------------------------------------------------------------


def temporal_softmax_loss(scores, y, mask=None):
    """Softmax cross-entropy at every time step, averaged.

    Inputs:
        scores  (N, T, V)  unnormalised log-probabilities (logits)
        y       (N, T)     integer targets in [0, V)
        mask    (N, T)     optional booleans; False positions (e.g. padding)
                           contribute neither loss nor gradient

    Returns:
        loss     float      the MEAN of -log p(y) over the unmasked positions,
                            i.e. sum over unmasked (n, t) divided by their
                            count (N * T without a mask). So the loss is "per
                            character" and does not grow with N or T; at
                            initialisation it is about log(V).
        dscores  (N, T, V)  gradient of that mean: (p - onehot(y)) / count at
                            unmasked positions, 0 elsewhere.

    Min-char-rnn *sums* over time instead of averaging; the gradients differ
    only by the constant factor count.
    """
    scores = check_ndim("scores", scores, 3, "(N, T, V)")
    N, T, V = scores.shape
    y = _check_indices("y", y, V, (N, T), "(N, T)")
    if mask is None:
        mask = np.ones((N, T), dtype=bool)
    else:
        mask = np.asarray(mask)
        if mask.shape != (N, T):
            raise ValueError(f"mask has shape {mask.shape} but expected (N, T) = {(N, T)}")
        mask = mask.astype(bool)
    count = max(int(mask.sum()), 1)  # all masked: loss 0, gradient 0

    # Stable log-softmax: subtracting the max changes nothing mathematically
    # but keeps exp() from overflowing.
    shifted = scores - scores.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))  # (N, T, V)
    probs = np.exp(log_probs)

    n_idx, t_idx = np.arange(N)[:, None], np.arange(T)[None, :]
    log_p_target = log_probs[n_idx, t_idx, y]  # (N, T)
    loss = -np.sum(log_p_target * mask) / count

    # d(-log softmax(s)_y)/ds = p - onehot(y): the initial error signal.
    dscores = probs.copy()
    dscores[n_idx, t_idx, y] -= 1
    dscores *= mask[:, :, None] / count
    return float(loss), dscores.astype(scores.dtype, copy=False)


# ----------------------------------------------------------------------------
# One-hot and embeddings: from integer ids to vectors
# ----------------------------------------------------------------------------


def one_hot(y, V, dtype=np.float64):
    """One-hot encode integer ids.

    Inputs:  y (any shape, e.g. (N, T)) integers in [0, V), V the vocabulary size
    Returns: array of shape y.shape + (V,) with a single 1 per position.

    one_hot(y, V) @ W equals W[y]: multiplying a one-hot vector by a matrix
    just picks a row. That is why an embedding layer is a lookup.
    """
    y = _check_indices("y", y, V)
    out = np.zeros(y.shape + (V,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out


def embedding_forward(idx, W):
    """Look up a vector for each id: out[n, t] = W[idx[n, t]].

    Inputs:  idx (N, T) integers in [0, V), W (V, D) the embedding matrix
    Returns: out (N, T, D), cache (idx, W.shape, W.dtype)
    """
    W = check_ndim("W", W, 2, "(V, D)")
    idx = _check_indices("idx", idx, W.shape[0])
    if idx.ndim != 2:
        raise ValueError(f"idx has shape {idx.shape} but expected 2 dimensions (N, T)")
    out = W[idx]
    return out, (idx, W.shape, W.dtype)


def embedding_backward(dout, cache):
    """Backward pass of embedding_forward.

    Inputs:  dout (N, T, D), cache from embedding_forward
    Returns: dW (V, D)

    Each row of W receives the sum of the gradients of every position where
    its id occurred. ``np.add.at`` accumulates repeated ids; plain
    ``dW[idx] += dout`` would keep only one of them.
    """
    idx, W_shape, W_dtype = cache
    N, T = idx.shape
    dout = check_shape("dout", dout, (N, T, W_shape[1]), "(N, T, D)")
    dW = np.zeros(W_shape, dtype=np.result_type(W_dtype, dout))
    np.add.at(dW, idx, dout)
    return dW
