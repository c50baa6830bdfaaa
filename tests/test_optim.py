"""Tests for lstm_course.optim: update rules and gradient clipping."""
import warnings

import numpy as np
import pytest

from lstm_course.optim import (
    SGD,
    Adagrad,
    Adam,
    Momentum,
    clip_grad_norm,
    clip_grad_value,
    global_norm,
)


# ----------------------------------------------------------------------------
# a quadratic bowl: f(p) = 1/2 sum_k a_k (p_k - c_k)^2, gradient a (p - c)
# ----------------------------------------------------------------------------
def _quadratic_problem(seed=0):
    rng = np.random.default_rng(seed)
    centre = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=(4,))}
    curv = {"W": rng.uniform(0.5, 3.0, size=(3, 4)), "b": rng.uniform(0.5, 3.0, size=(4,))}
    params = {"W": np.zeros((3, 4)), "b": np.zeros(4)}

    def loss_and_grads(p):
        loss = sum(0.5 * np.sum(curv[k] * (p[k] - centre[k]) ** 2) for k in p)
        grads = {k: curv[k] * (p[k] - centre[k]) for k in p}
        return loss, grads

    return params, loss_and_grads


@pytest.mark.parametrize(
    "opt",
    [SGD(lr=0.1), Momentum(lr=0.05, beta=0.9), Adagrad(lr=0.5), Adam(lr=0.05)],
    ids=["sgd", "momentum", "adagrad", "adam"],
)
def test_optimizers_minimize_a_quadratic(opt):
    params, f = _quadratic_problem()
    arrays_before = {k: v for k, v in params.items()}
    loss0, _ = f(params)
    for _ in range(300):
        _, grads = f(params)
        opt.step(params, grads)
    loss1, _ = f(params)
    assert loss1 < 1e-3 * loss0
    # updated in place: the model's own arrays changed, no new arrays
    for k in params:
        assert params[k] is arrays_before[k]


def test_sgd_one_step_is_p_minus_lr_g():
    p = {"w": np.array([1.0, -2.0, 3.0])}
    g = {"w": np.array([0.5, 0.5, -1.0])}
    SGD(lr=0.1).step(p, g)
    np.testing.assert_allclose(p["w"], [0.95, -2.05, 3.1])


def test_adagrad_matches_min_char_rnn_formula():
    """Karpathy's min-char-rnn, written out: mem += g*g; p += -lr * g / sqrt(mem + 1e-8)."""
    rng = np.random.default_rng(1)
    lr = 1e-1
    p_ours = {"Wxh": rng.normal(size=(5, 3)), "bh": rng.normal(size=(5, 1))}
    p_ref = {k: v.copy() for k, v in p_ours.items()}
    mem = {k: np.zeros_like(v) for k, v in p_ref.items()}
    opt = Adagrad(lr=lr)
    for _ in range(5):
        grads = {k: rng.normal(size=v.shape) for k, v in p_ref.items()}
        for k in p_ref:
            dparam = grads[k]
            mem[k] += dparam * dparam
            p_ref[k] += -lr * dparam / np.sqrt(mem[k] + 1e-8)
        opt.step(p_ours, {k: g.copy() for k, g in grads.items()})
    for k in p_ref:
        np.testing.assert_allclose(p_ours[k], p_ref[k], rtol=1e-12, atol=1e-14)


def test_adam_first_step_has_size_lr_whatever_the_gradient_scale():
    # after bias correction m_hat = g and v_hat = g^2, so the step is lr * sign(g)
    p = {"w": np.zeros(4)}
    g = {"w": np.array([1e-4, -3.0, 250.0, -1e3])}
    Adam(lr=0.01).step(p, g)
    np.testing.assert_allclose(p["w"], -0.01 * np.sign(g["w"]), rtol=1e-3)


def test_momentum_speeds_up_to_lr_over_one_minus_beta():
    p = {"w": np.zeros(1)}
    opt = Momentum(lr=0.1, beta=0.9)
    for _ in range(200):
        before = p["w"].copy()
        opt.step(p, {"w": np.ones(1)})
    # terminal velocity on a constant gradient: lr * g / (1 - beta) = 1.0 per step
    np.testing.assert_allclose(before - p["w"], [1.0], rtol=1e-6)


def test_optimizer_validation():
    p = {"W": np.zeros((2, 3))}
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(3, 2\).*\(2, 3\)"):
        SGD().step(p, {"W": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="same keys"):
        SGD().step(p, {"dW": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"params\['W'\].*floating"):
        SGD().step({"W": np.zeros((2, 3), dtype=int)}, {"W": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="lr"):
        Adam(lr=-1.0)
    with pytest.raises(ValueError, match="beta"):
        Momentum(beta=1.0)


# ----------------------------------------------------------------------------
# clipping
# ----------------------------------------------------------------------------
def _random_grads(scale, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "Wx": scale * rng.normal(size=(4, 12)),
        "Wh": scale * rng.normal(size=(3, 12)),
        "b": scale * rng.normal(size=(12,)),
    }


def _flat(grads):
    return np.concatenate([g.ravel() for g in grads.values()])


def assert_clipped_correctly(before, after, max_norm):
    """What norm clipping must do: cap the global norm, keep the direction."""
    norm_before = np.linalg.norm(_flat(before))
    norm_after = np.linalg.norm(_flat(after))
    if norm_before > max_norm:
        assert norm_after == pytest.approx(max_norm, rel=1e-12)
        # same direction: after is a positive multiple of before
        cos = _flat(before) @ _flat(after) / (norm_before * norm_after)
        assert cos == pytest.approx(1.0, rel=1e-12)
    else:
        for k in before:
            np.testing.assert_array_equal(after[k], before[k])


def _wrong_clip(grads, max_norm):
    """The common mistake: the ratio upside down (enlarges big gradients)."""
    norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
    if norm > max_norm:
        for g in grads.values():
            g *= norm / max_norm
    return norm


@pytest.mark.parametrize("scale", [10.0, 1e-3])
def test_clip_grad_norm_caps_norm_and_keeps_direction(scale):
    grads = _random_grads(scale)
    before = {k: v.copy() for k, v in grads.items()}
    returned = clip_grad_norm(grads, max_norm=1.0)
    assert_clipped_correctly(before, grads, max_norm=1.0)
    # the value returned is the norm BEFORE clipping
    assert returned == pytest.approx(np.linalg.norm(_flat(before)), rel=1e-12)


def test_clip_grad_norm_changes_arrays_in_place():
    grads = _random_grads(10.0)
    arrays = dict(grads)
    clip_grad_norm(grads, 1.0)
    for k in grads:
        assert grads[k] is arrays[k]
    assert np.linalg.norm(_flat(arrays)) == pytest.approx(1.0)


def test_the_wrong_clipping_rule_is_caught_by_the_same_check():
    grads = _random_grads(10.0)
    before = {k: v.copy() for k, v in grads.items()}
    _wrong_clip(grads, max_norm=1.0)
    with pytest.raises(AssertionError):
        assert_clipped_correctly(before, grads, max_norm=1.0)


def test_clip_grad_norm_of_zero_gradients_has_no_division_by_zero():
    grads = {"W": np.zeros((3, 3)), "b": np.zeros(3)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = clip_grad_norm(grads, max_norm=5.0)
    assert norm == 0.0
    assert not np.any(grads["W"]) and not np.any(grads["b"])
    assert np.all(np.isfinite(grads["W"]))


def test_clip_grad_norm_leaves_non_finite_gradients_alone():
    grads = {"W": np.array([np.inf, 1.0])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = clip_grad_norm(grads, max_norm=1.0)
    assert norm == np.inf
    assert grads["W"][1] == 1.0


def test_global_norm_does_not_overflow():
    grads = {"a": np.full(4, 1e200), "b": np.full(5, -1e200)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = global_norm(grads)
    assert norm == pytest.approx(3e200, rel=1e-12)
    clip_grad_norm(grads, 1.0)
    assert np.linalg.norm(_flat(grads)) == pytest.approx(1.0, rel=1e-12)


def test_global_norm_matches_norm_of_concatenation():
    grads = _random_grads(2.0, seed=3)
    assert global_norm(grads) == pytest.approx(np.linalg.norm(_flat(grads)), rel=1e-12)
    assert global_norm({}) == 0.0


def test_clip_grad_value_clips_elementwise_in_place():
    g = np.array([[-7.0, -5.0, 0.3], [4.9, 5.0, 12.0]])
    grads = {"W": g}
    clip_grad_value(grads, 5.0)
    assert grads["W"] is g
    np.testing.assert_array_equal(g, [[-5.0, -5.0, 0.3], [4.9, 5.0, 5.0]])


def test_clipping_validation():
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm({"W": np.ones(2)}, 0.0)
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value({"W": np.ones(2)}, -1.0)
    with pytest.raises(ValueError, match=r"grads\['W'\].*numpy array"):
        clip_grad_norm({"W": [1.0, 2.0]}, 1.0)
