"""Tests for lstm_course.char_rnn: equal to Karpathy's min-char-rnn, gradients, sampling."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lstm_course.char_rnn import init_params, loss_fun, make_vocab, sample

fast = settings(max_examples=10, deadline=None, derandomize=True)

# ----------------------------------------------------------------------------
# Reference: lossFun from Andrej Karpathy's min-char-rnn.py
# (https://gist.github.com/karpathy/d4dee566867f8291f086),
# "Minimal character-level Vanilla RNN model. Written by Andrej Karpathy
# (@karpathy). BSD License." Copied verbatim, except that the gradient
# clipping loop (np.clip to [-5, 5]) is removed, as loss_fun leaves clipping
# to optim.py. It reads the module globals Wxh, Whh, Why, bh, by and
# vocab_size, which _set_karpathy_globals assigns.
# ----------------------------------------------------------------------------
Wxh = Whh = Why = bh = by = vocab_size = None


def lossFun(inputs, targets, hprev):
  """
  inputs,targets are both list of integers.
  hprev is Hx1 array of initial hidden state
  returns the loss, gradients on model parameters, and last hidden state
  """
  xs, hs, ys, ps = {}, {}, {}, {}
  hs[-1] = np.copy(hprev)
  loss = 0
  # forward pass
  for t in range(len(inputs)):
    xs[t] = np.zeros((vocab_size,1)) # encode in 1-of-k representation
    xs[t][inputs[t]] = 1
    hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t-1]) + bh) # hidden state
    ys[t] = np.dot(Why, hs[t]) + by # unnormalized log probabilities for next chars
    ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t])) # probabilities for next chars
    loss += -np.log(ps[t][targets[t],0]) # softmax (cross-entropy loss)
  # backward pass: compute gradients going backwards
  dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
  dbh, dby = np.zeros_like(bh), np.zeros_like(by)
  dhnext = np.zeros_like(hs[0])
  for t in reversed(range(len(inputs))):
    dy = np.copy(ps[t])
    dy[targets[t]] -= 1 # backprop into y. see http://cs231n.github.io/neural-networks-case-study/#grad if confused here
    dWhy += np.dot(dy, hs[t].T)
    dby += dy
    dh = np.dot(Why.T, dy) + dhnext # backprop into h
    dhraw = (1 - hs[t] * hs[t]) * dh # backprop through tanh nonlinearity
    dbh += dhraw
    dWxh += np.dot(dhraw, xs[t].T)
    dWhh += np.dot(dhraw, hs[t-1].T)
    dhnext = np.dot(Whh.T, dhraw)
  return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs)-1]

# ----------------------------------------------------------------------------


def _set_karpathy_globals(params):
    global Wxh, Whh, Why, bh, by, vocab_size
    Wxh, Whh, Why, bh, by = (params[k] for k in ("Wxh", "Whh", "Why", "bh", "by"))
    vocab_size = Wxh.shape[1]


def _random_params(rng, V, H, scale=1.0):
    """Parameters with every entry random (biases too), so no term can hide."""
    return {
        "Wxh": rng.standard_normal((H, V)) * scale / np.sqrt(V),
        "Whh": rng.standard_normal((H, H)) * scale / np.sqrt(H),
        "Why": rng.standard_normal((V, H)) * scale,
        "bh": rng.standard_normal((H, 1)) * 0.1,
        "by": rng.standard_normal((V, 1)) * 0.1,
    }


@fast
@given(V=st.integers(2, 6), H=st.integers(1, 6), T=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 1))
def test_loss_fun_equals_karpathy_lossFun(V, H, T, seed):
    rng = np.random.default_rng(seed)
    params = _random_params(rng, V, H)
    inputs = [int(i) for i in rng.integers(0, V, T)]
    targets = [int(i) for i in rng.integers(0, V, T)]
    hprev = rng.standard_normal((H, 1))

    _set_karpathy_globals(params)
    ref_loss, *ref_grads, ref_h = lossFun(inputs, targets, hprev)
    loss, grads, h_last = loss_fun(inputs, targets, hprev, params)

    assert loss == pytest.approx(float(ref_loss), rel=1e-12, abs=1e-12)
    for name, ref in zip(["dWxh", "dWhh", "dWhy", "dbh", "dby"], ref_grads):
        assert grads[name].shape == ref.shape
        np.testing.assert_allclose(grads[name], ref, rtol=1e-12, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(h_last, ref_h, rtol=1e-12, atol=1e-12)


def test_loss_fun_is_not_clipped():
    """Large weights give gradients beyond 5; loss_fun must not clip them."""
    rng = np.random.default_rng(0)
    params = _random_params(rng, 4, 3, scale=1.0)
    params["Why"] *= 10
    inputs, targets = [0, 1, 2, 3, 0, 1], [1, 2, 3, 0, 1, 2]
    _, grads, _ = loss_fun(inputs, targets, np.zeros((3, 1)), params)
    assert max(np.abs(g).max() for g in grads.values()) > 5


def test_loss_fun_gradients_match_numerical(grad_error):
    rng = np.random.default_rng(1)
    V, H = 5, 4
    params = _random_params(rng, V, H)
    inputs, targets = [0, 3, 1, 4, 2, 2], [3, 1, 4, 2, 2, 0]
    hprev = rng.standard_normal((H, 1))
    _, grads, _ = loss_fun(inputs, targets, hprev, params)
    for name in ("Wxh", "Whh", "Why", "bh", "by"):
        err = grad_error(lambda: loss_fun(inputs, targets, hprev, params)[0], params[name], grads["d" + name])
        assert err < 1e-7, name


def test_h_last_carries_state_between_chunks():
    """Two chunks with hprev carried over end in the same state as one long chunk."""
    rng = np.random.default_rng(2)
    params = _random_params(rng, 4, 5)
    seq = [int(i) for i in rng.integers(0, 4, 9)]
    h0 = np.zeros((5, 1))
    _, _, h_long = loss_fun(seq[:8], seq[1:9], h0, params)
    _, _, h_mid = loss_fun(seq[:3], seq[1:4], h0, params)
    _, _, h_two = loss_fun(seq[3:8], seq[4:9], h_mid, params)
    np.testing.assert_allclose(h_two, h_long, rtol=1e-12)


def test_float32_params_give_float32_gradients():
    rng = np.random.default_rng(3)
    params = {k: v.astype(np.float32) for k, v in _random_params(rng, 4, 3).items()}
    loss, grads, h = loss_fun([0, 1, 2], [1, 2, 3], np.zeros((3, 1), np.float32), params)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert np.isfinite(loss)


def test_sample_is_deterministic_per_seed():
    params = _random_params(np.random.default_rng(4), 6, 5)
    h = np.zeros((5, 1))
    a = sample(h, 0, 50, params, rng=123)
    b = sample(h, 0, 50, params, rng=np.random.default_rng(123))
    c = sample(h, 0, 50, params, rng=124)
    assert a == b
    assert a != c
    assert len(a) == 50 and all(isinstance(i, int) and 0 <= i < 6 for i in a)


def test_low_temperature_picks_the_argmax():
    rng = np.random.default_rng(5)
    params = _random_params(rng, 6, 5, scale=2.0)
    h = rng.standard_normal((5, 1))
    got = sample(h, 2, 20, params, temperature=1e-4, rng=0)
    # Greedy decoding written out in row-vector form (x Wxh^T + ...).
    expected, x, hr = [], 2, h.ravel()
    for _ in range(20):
        hr = np.tanh(params["Wxh"][:, x] + hr @ params["Whh"].T + params["bh"].ravel())
        x = int(np.argmax(hr @ params["Why"].T + params["by"].ravel()))
        expected.append(x)
    assert got == expected


def test_high_temperature_is_close_to_uniform():
    params = _random_params(np.random.default_rng(6), 4, 3, scale=2.0)
    counts = np.bincount(sample(np.zeros((3, 1)), 0, 4000, params, temperature=1e4, rng=1), minlength=4)
    assert np.all(np.abs(counts / 4000 - 0.25) < 0.04)


def test_init_params_and_vocab():
    p = init_params(7, 5, rng=0)
    assert {k: v.shape for k, v in p.items()} == {
        "Wxh": (5, 7), "Whh": (5, 5), "Why": (7, 5), "bh": (5, 1), "by": (7, 1)}
    assert 0.003 < p["Whh"].std() < 0.03 and not p["bh"].any()
    assert all(np.array_equal(p[k], init_params(7, 5, rng=0)[k]) for k in p)
    chars, c2i, i2c = make_vocab("hello world")
    assert chars == sorted(set("hello world"))
    assert all(i2c[c2i[ch]] == ch for ch in "hello world")
    assert sorted(c2i.values()) == list(range(len(chars)))


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"hprev": np.zeros((3,))}, r"hprev has shape \(3,\) but expected \(H, 1\) = \(3, 1\)"),
        ({"inputs": [0, 4]}, r"inputs\[1\] = 4 but expected an int in \[0, V\) = \[0, 4\)"),
        ({"targets": [0]}, r"inputs has length 2 and targets has length 1"),
        ({"Whh": np.zeros((3, 4))}, r"params\['Whh'\] has shape \(3, 4\) but expected \(H, H\) = \(3, 3\)"),
        ({"by": np.zeros(4)}, r"params\['by'\] has shape \(4,\) but expected \(V, 1\) = \(4, 1\)"),
    ],
)
def test_validation_names_argument_and_shapes(kwargs, pattern):
    params = init_params(4, 3, rng=0)
    args = {"inputs": [0, 1], "targets": [1, 2], "hprev": np.zeros((3, 1))}
    for k in list(kwargs):
        if k in params:
            params[k] = kwargs.pop(k)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        loss_fun(args["inputs"], args["targets"], args["hprev"], params)


def test_sample_validation():
    params = init_params(4, 3, rng=0)
    with pytest.raises(ValueError, match="temperature"):
        sample(np.zeros((3, 1)), 0, 5, params, temperature=0)
    with pytest.raises(ValueError, match=r"h has shape \(1, 3\) but expected \(H, 1\) = \(3, 1\)"):
        sample(np.zeros((1, 3)), 0, 5, params)
