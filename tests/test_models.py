"""Tests for lstm_course.models: gradient checks, truncated BPTT state, sampling, dtypes."""
import numpy as np
import pytest

from lstm_course.char_rnn import loss_fun
from lstm_course.models import CharLSTM, CharRNN

MODELS = [CharRNN, CharLSTM]


def _batch(rng, V, N, T):
    return rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))


def _random_state(model, rng, N):
    """A non-zero starting state, so the gradient check also covers state inputs."""
    state = model.initial_state(N)
    if isinstance(model, CharLSTM):
        return [(0.5 * rng.standard_normal(h.shape), 0.5 * rng.standard_normal(c.shape)) for h, c in state]
    return [0.5 * rng.standard_normal(h.shape) for h in state]


@pytest.mark.parametrize("Model", MODELS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_loss_and_grads_matches_numerical_gradient(Model, num_layers, grad_error):
    rng = np.random.default_rng(num_layers)
    V, H, N, T = 4, 3, 2, 3
    model = Model(V, H, num_layers=num_layers, seed=7)
    for b in (k for k in model.parameters if k.startswith("b")):  # non-zero biases too
        model.parameters[b] += 0.1 * rng.standard_normal(model.parameters[b].shape)
    inputs, targets = _batch(rng, V, N, T)
    state = _random_state(model, rng, N)

    loss, grads, _ = model.loss_and_grads(inputs, targets, state)
    assert list(grads) == list(model.parameters)
    for name, p in model.parameters.items():
        assert grads[name].shape == p.shape, name
        err = grad_error(lambda: model.loss_and_grads(inputs, targets, state)[0], p, grads[name])
        assert err < 1e-7, name


def test_char_rnn_equals_min_char_rnn():
    """One layer, one sequence: the same model as min-char-rnn (whose loss is summed over T)."""
    rng = np.random.default_rng(0)
    V, H, T = 5, 4, 6
    model = CharRNN(V, H, seed=3)
    p = model.parameters
    p["b0"] += 0.1 * rng.standard_normal(H)
    p["by"] += 0.1 * rng.standard_normal(V)
    inputs, targets = _batch(rng, V, 1, T)
    h0 = rng.standard_normal((1, H))
    loss, grads, state = model.loss_and_grads(inputs, targets, [h0])

    params = {"Wxh": p["Wx0"].T, "Whh": p["Wh0"].T, "Why": p["Wy"].T,
              "bh": p["b0"][:, None], "by": p["by"][:, None]}
    ref_loss, ref, h_last = loss_fun(list(inputs[0]), list(targets[0]), h0.T, params)
    assert loss == pytest.approx(ref_loss / T, rel=1e-12)  # ours is the mean over T
    for ours, theirs in [("Wx0", "dWxh"), ("Wh0", "dWhh"), ("Wy", "dWhy")]:
        np.testing.assert_allclose(grads[ours], ref[theirs].T / T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grads["b0"], ref["dbh"].ravel() / T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grads["by"], ref["dby"].ravel() / T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(state[0], h_last.T, rtol=1e-12)


@pytest.mark.parametrize("Model", MODELS)
def test_state_carries_over_chunks(Model):
    """Truncated BPTT: the forward pass over two chunks equals one pass over the whole."""
    rng = np.random.default_rng(1)
    V, N = 5, 3
    model = Model(V, 4, num_layers=2, seed=1)
    seq = rng.integers(0, V, (N, 9))
    _, _, state_long = model.loss_and_grads(seq[:, :8], seq[:, 1:9])
    _, _, state_mid = model.loss_and_grads(seq[:, :3], seq[:, 1:4])
    _, _, state_two = model.loss_and_grads(seq[:, 3:8], seq[:, 4:9], state_mid)
    np.testing.assert_allclose(np.concatenate([np.ravel(s) for s in state_two]),
                               np.concatenate([np.ravel(s) for s in state_long]), rtol=1e-12)
    # ... but the carried state is a different starting point than zeros.
    _, _, state_fresh = model.loss_and_grads(seq[:, 3:8], seq[:, 4:9])
    assert not np.allclose(np.ravel(state_fresh[-1]), np.ravel(state_two[-1]))


def test_lstm_forget_bias_and_parameter_shapes():
    model = CharLSTM(6, 3, num_layers=2, forget_bias=2.0)
    shapes = {k: v.shape for k, v in model.parameters.items()}
    assert shapes == {"Wx0": (6, 12), "Wh0": (3, 12), "b0": (12,),
                      "Wx1": (3, 12), "Wh1": (3, 12), "b1": (12,), "Wy": (3, 6), "by": (6,)}
    for l in range(2):
        b = model.parameters[f"b{l}"]
        assert np.all(b[3:6] == 2.0) and not b[:3].any() and not b[6:].any()  # gate order i, f, o, g
    rnn = CharRNN(6, 3, num_layers=2)
    assert {k: v.shape for k, v in rnn.parameters.items()} == {
        "Wx0": (6, 3), "Wh0": (3, 3), "b0": (3,), "Wx1": (3, 3), "Wh1": (3, 3), "b1": (3,),
        "Wy": (3, 6), "by": (6,)}


@pytest.mark.parametrize("Model", MODELS)
def test_initial_loss_is_about_log_V_and_seed_reproducible(Model):
    rng = np.random.default_rng(2)
    V = 20
    inputs, targets = _batch(rng, V, 4, 10)
    loss, _, _ = Model(V, 16, seed=0).loss_and_grads(inputs, targets)
    assert abs(loss - np.log(V)) < 0.5 * np.log(V)
    a, b, c = Model(V, 8, seed=5), Model(V, 8, seed=5), Model(V, 8, seed=6)
    assert all(np.array_equal(a.parameters[k], b.parameters[k]) for k in a.parameters)
    assert not np.array_equal(a.parameters["Wx0"], c.parameters["Wx0"])


@pytest.mark.parametrize("Model", MODELS)
def test_a_few_gradient_steps_reduce_the_loss(Model):
    rng = np.random.default_rng(3)
    V = 4
    inputs = np.tile(np.arange(V), (2, 3))  # 0 1 2 3 0 1 2 3 ...: perfectly predictable
    targets = (inputs + 1) % V
    model = Model(V, 8, seed=0)
    first, _, _ = model.loss_and_grads(inputs, targets)
    for _ in range(100):
        loss, grads, _ = model.loss_and_grads(inputs, targets)
        for k in model.parameters:
            model.parameters[k] -= 0.5 * grads[k]
    assert loss < 0.2 * first


def _greedy_next(model, seq):
    """argmax of p(next char | seq), read off loss_and_grads: with every other
    target fixed, the loss for last target k is const - log p(k) / T."""
    x = np.array([seq])
    losses = []
    for k in range(model.V):
        y = np.zeros_like(x)
        y[0, -1] = k
        losses.append(model.loss_and_grads(x, y)[0])
    return int(np.argmin(losses))


@pytest.mark.parametrize("Model", MODELS)
def test_sample_deterministic_and_low_temperature_is_greedy(Model):
    V = 5
    model = Model(V, 6, num_layers=2, seed=4)
    a = model.sample(1, 40, rng=11)
    assert a == model.sample(1, 40, rng=np.random.default_rng(11))
    assert a != model.sample(1, 40, rng=12)
    assert len(a) == 40 and all(isinstance(i, int) and 0 <= i < V for i in a)

    greedy = model.sample(1, 8, temperature=1e-4, rng=0)
    seq = [1]
    for _ in range(8):
        seq.append(_greedy_next(model, seq))
    assert greedy == seq[1:]


@pytest.mark.parametrize("Model", MODELS)
def test_sample_continues_from_state(Model):
    """Sampling from the state after a prefix continues that prefix."""
    model = Model(4, 5, num_layers=2, seed=2)
    prefix = [0, 1, 2, 3, 2]
    _, _, state = model.loss_and_grads(np.array([prefix]), np.zeros((1, 5), dtype=int))
    greedy = model.sample(1, 6, temperature=1e-4, rng=0, state=state)
    seq = prefix + [1]
    for _ in range(6):
        seq.append(_greedy_next(model, seq))
    assert greedy == seq[6:]


@pytest.mark.parametrize("Model", MODELS)
def test_float32_model_stays_float32(Model):
    model = Model(5, 4, num_layers=2, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in model.parameters.values())
    rng = np.random.default_rng(4)
    inputs, targets = _batch(rng, 5, 2, 3)
    loss, grads, state = model.loss_and_grads(inputs, targets)
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(np.asarray(s).dtype == np.float32 for s in state)
    ref = Model(5, 4, num_layers=2, dtype=np.float64)
    ref_loss, ref_grads, _ = ref.loss_and_grads(inputs, targets)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(grads["Wh1"], ref_grads["Wh1"], atol=1e-5)


@pytest.mark.parametrize("Model", MODELS)
def test_validation_names_argument_and_shapes(Model):
    model = Model(4, 3, num_layers=2)
    ok = np.zeros((2, 5), dtype=int)
    with pytest.raises(ValueError, match=r"targets has shape \(2, 4\) but expected \(N, T\) = \(2, 5\)"):
        model.loss_and_grads(ok, np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match=r"inputs .* expected indices in \[0, V\) = \[0, 4\)"):
        model.loss_and_grads(ok + 4, ok)
    with pytest.raises(ValueError, match=r"inputs has shape \(5,\) but expected 2 dimensions \(N, T\)"):
        model.loss_and_grads(ok[0], ok[0])
    bad_state = model.initial_state(3)  # batch of 3, but the inputs have N = 2
    with pytest.raises(ValueError, match=r"state\[0\].* has shape \(3, 3\) but expected \(N, H\) = \(2, 3\)"):
        model.loss_and_grads(ok, ok, bad_state)
    with pytest.raises(ValueError, match=r"state has 1 entries"):
        model.loss_and_grads(ok, ok, model.initial_state(2)[:1])
    with pytest.raises(ValueError, match="temperature"):
        model.sample(0, 3, temperature=-1.0)
