"""Tests for lstm_course.layers: gradient checks, the loss's averaging and mask, validation, dtypes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lstm_course.layers import (
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
    one_hot,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)

TOL = 1e-7
small = st.integers(min_value=1, max_value=4)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
fast = settings(max_examples=10, deadline=None, derandomize=True)


@fast
@given(N=small, D=small, M=small, seed=seeds)
def test_affine_gradients(N, D, M, seed, grad_error):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((N, D)), rng.standard_normal((D, M)), rng.standard_normal(M)
    dout = rng.standard_normal((N, M))
    out, cache = affine_forward(x, w, b)
    assert out.shape == (N, M)
    dx, dw, db = affine_backward(dout, cache)
    f = lambda: affine_forward(x, w, b)[0]  # noqa: E731
    assert grad_error(f, x, dx, dout) < TOL
    assert grad_error(f, w, dw, dout) < TOL
    assert grad_error(f, b, db, dout) < TOL


@fast
@given(N=small, T=small, D=small, M=small, seed=seeds)
def test_temporal_affine_gradients(N, T, D, M, seed, grad_error):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((N, T, D)), rng.standard_normal((D, M)), rng.standard_normal(M)
    dout = rng.standard_normal((N, T, M))
    out, cache = temporal_affine_forward(x, w, b)
    assert out.shape == (N, T, M)
    dx, dw, db = temporal_affine_backward(dout, cache)
    f = lambda: temporal_affine_forward(x, w, b)[0]  # noqa: E731
    assert grad_error(f, x, dx, dout) < TOL
    assert grad_error(f, w, dw, dout) < TOL
    assert grad_error(f, b, db, dout) < TOL


def test_temporal_affine_is_affine_at_each_step():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    out, _ = temporal_affine_forward(x, w, b)
    for t in range(3):
        np.testing.assert_allclose(out[:, t], affine_forward(x[:, t], w, b)[0], rtol=1e-12)


@fast
@given(N=small, T=small, V=st.integers(2, 5), seed=seeds, masked=st.booleans())
def test_temporal_softmax_loss_gradient(N, T, V, seed, masked, grad_error):
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) < 0.6 if masked else None
    loss, dscores = temporal_softmax_loss(scores, y, mask)
    assert dscores.shape == scores.shape
    assert grad_error(lambda: temporal_softmax_loss(scores, y, mask)[0], scores, dscores) < TOL


def test_temporal_softmax_loss_is_mean_over_positions():
    rng = np.random.default_rng(1)
    N, T, V = 3, 4, 5
    scores = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, (N, T))
    loss, _ = temporal_softmax_loss(scores, y)
    # Cross-entropy written out with the textbook formula -log(e^s_y / sum e^s).
    p = np.exp(scores) / np.exp(scores).sum(axis=2, keepdims=True)
    nll = -np.log(np.take_along_axis(p, y[..., None], axis=2)[..., 0])
    assert loss == pytest.approx(nll.mean(), rel=1e-12)
    # Uniform scores give exactly log(V), whatever N and T are.
    assert temporal_softmax_loss(np.zeros((7, 2, V)), np.zeros((7, 2), dtype=int))[0] == pytest.approx(np.log(V))


def test_temporal_softmax_loss_mask():
    rng = np.random.default_rng(2)
    N, T, V = 2, 5, 4
    scores = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, (N, T))
    mask = np.zeros((N, T), dtype=bool)
    mask[0, :3] = True
    mask[1, 1] = True
    loss, dscores = temporal_softmax_loss(scores, y, mask)
    # Masked positions: no gradient, and changing them does not change the loss.
    assert np.all(dscores[~mask] == 0)
    scores2 = scores.copy()
    scores2[~mask] += 100 * rng.standard_normal(((~mask).sum(), V))
    assert temporal_softmax_loss(scores2, y, mask)[0] == loss
    # The loss is the mean over the 4 unmasked positions only.
    per_position = [temporal_softmax_loss(scores[n:n + 1, t:t + 1], y[n:n + 1, t:t + 1])[0]
                    for n, t in zip(*np.nonzero(mask))]
    assert loss == pytest.approx(np.mean(per_position), rel=1e-12)
    # Everything masked: zero loss and gradient, no division by zero.
    loss0, d0 = temporal_softmax_loss(scores, y, np.zeros((N, T), dtype=bool))
    assert loss0 == 0.0 and not d0.any()


def test_temporal_softmax_loss_is_stable_for_huge_scores():
    scores = np.array([[[1000.0, 0.0, -1000.0], [-1e6, 1e6, 0.0]]])
    y = np.array([[0, 2]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        loss, dscores = temporal_softmax_loss(scores, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    assert loss == pytest.approx((0.0 + 1e6) / 2)


def test_one_hot_and_embedding_agree():
    rng = np.random.default_rng(3)
    V, D = 6, 3
    idx = rng.integers(0, V, (2, 4))
    W = rng.standard_normal((V, D))
    oh = one_hot(idx, V)
    assert oh.shape == (2, 4, V)
    assert np.all(oh.sum(axis=-1) == 1) and np.all(oh.argmax(axis=-1) == idx)
    out, _ = embedding_forward(idx, W)
    np.testing.assert_allclose(out, oh @ W, rtol=1e-12)


@fast
@given(N=small, T=small, V=small, D=small, seed=seeds)
def test_embedding_gradient(N, T, V, D, seed, grad_error):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, V, (N, T))  # small V: repeated ids are common
    W = rng.standard_normal((V, D))
    dout = rng.standard_normal((N, T, D))
    _, cache = embedding_forward(idx, W)
    dW = embedding_backward(dout, cache)
    assert grad_error(lambda: embedding_forward(idx, W)[0], W, dW, dout) < TOL


def test_embedding_backward_accumulates_repeated_ids():
    W = np.zeros((3, 2))
    _, cache = embedding_forward(np.array([[1, 1, 1]]), W)
    dW = embedding_backward(np.ones((1, 3, 2)), cache)
    np.testing.assert_array_equal(dW, [[0, 0], [3, 3], [0, 0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4)).astype(dtype)
    w, b = rng.standard_normal((4, 5)).astype(dtype), np.zeros(5, dtype)
    out, cache = temporal_affine_forward(x, w, b)
    assert out.dtype == dtype
    assert all(g.dtype == dtype for g in temporal_affine_backward(np.ones_like(out), cache))
    out2, cache2 = affine_forward(x[:, 0], w, b)
    assert out2.dtype == dtype
    assert all(g.dtype == dtype for g in affine_backward(np.ones_like(out2), cache2))
    loss, dscores = temporal_softmax_loss(out, np.zeros((2, 3), dtype=int))
    assert dscores.dtype == dtype and np.isfinite(loss)
    emb, cache3 = embedding_forward(np.zeros((2, 3), dtype=int), w)
    assert emb.dtype == dtype and embedding_backward(np.ones_like(emb), cache3).dtype == dtype
    assert one_hot(np.array([1, 2]), 3, dtype=dtype).dtype == dtype


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: affine_forward(np.zeros((2, 3)), np.zeros((4, 5)), np.zeros(5)),
         r"w has shape \(4, 5\) but expected \(D, M\) = \(3, 5\)"),
        (lambda: affine_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(4)),
         r"b has shape \(4,\) but expected \(M,\) = \(5,\)"),
        (lambda: temporal_affine_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(5)),
         r"x has shape \(2, 3\) but expected 3 dimensions \(N, T, D\)"),
        (lambda: temporal_softmax_loss(np.zeros((2, 3, 4)), np.zeros((2, 4), dtype=int)),
         r"y has shape \(2, 4\) but expected \(N, T\) = \(2, 3\)"),
        (lambda: temporal_softmax_loss(np.zeros((2, 3, 4)), np.full((2, 3), 4)),
         r"y .* expected indices in \[0, V\) = \[0, 4\)"),
        (lambda: temporal_softmax_loss(np.zeros((2, 3, 4)), np.zeros((2, 3))),
         r"y must be an integer array"),
        (lambda: temporal_softmax_loss(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int), np.ones((3, 2))),
         r"mask has shape \(3, 2\) but expected \(N, T\) = \(2, 3\)"),
        (lambda: embedding_forward(np.zeros((2, 3), dtype=int), np.zeros(4)),
         r"W has shape \(4,\) but expected 2 dimensions \(V, D\)"),
        (lambda: one_hot(np.array([0, 3]), 3), r"expected indices in \[0, V\) = \[0, 3\)"),
    ],
)
def test_validation_names_argument_and_shapes(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_backward_validation():
    _, cache = temporal_affine_forward(np.zeros((2, 3, 4)), np.zeros((4, 5)), np.zeros(5))
    with pytest.raises(ValueError, match=r"dout has shape \(2, 3, 4\) but expected \(N, T, M\) = \(2, 3, 5\)"):
        temporal_affine_backward(np.zeros((2, 3, 4)), cache)
