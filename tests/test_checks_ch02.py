"""Chapter 2 checks: the reference passes, realistic student bugs are rejected with a useful message."""
import numpy as np
import pytest

from lstm_course.checks import CheckFailed, check, run_check
from lstm_course.optim import clip_grad_norm


# ----------------------------------------------------------------------------
# clip_grad_norm
# ----------------------------------------------------------------------------
def _norm(grads):
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def clip_ref(grads, max_norm):
    norm = _norm(grads)
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


def clip_inverted(grads, max_norm):          # the "find the bug" mistake
    norm = _norm(grads)
    if norm > max_norm:
        for g in grads.values():
            g *= norm / max_norm
    return norm


def clip_unguarded(grads, max_norm):         # always rescales: 0/0 for a zero gradient
    norm = _norm(grads)
    for g in grads.values():
        g *= min(1.0, max_norm / norm)
    return norm


def clip_unguarded_numpy(grads, max_norm):   # the same with numpy floats: 0/0 = NaN
    norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
    for g in grads.values():
        g *= min(norm, max_norm) / norm          # 0 / 0 when the gradient is zero
    return norm


def clip_returns_after(grads, max_norm):
    clip_ref(grads, max_norm)
    return _norm(grads)


def clip_not_in_place(grads, max_norm):
    norm = _norm(grads)
    if norm > max_norm:
        for k in grads:
            grads[k] = grads[k] * (max_norm / norm)
    return norm


def clip_per_array(grads, max_norm):
    norm = _norm(grads)
    for g in grads.values():
        n = np.linalg.norm(g)
        if n > max_norm:
            g *= max_norm / n
    return norm


def clip_always_rescale(grads, max_norm):    # also scales small gradients UP
    norm = _norm(grads)
    if norm > 0:
        for g in grads.values():
            g *= max_norm / norm
    return norm


def clip_no_return(grads, max_norm):
    clip_ref(grads, max_norm)


def clip_squared(grads, max_norm):
    norm = _norm(grads)
    clip_ref(grads, max_norm)
    return norm ** 2


@pytest.mark.parametrize("fn", [clip_ref, clip_grad_norm])
def test_clip_grad_norm_reference_passes(fn, capsys):
    assert run_check("clip_grad_norm", fn).passed
    check("clip_grad_norm", fn)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize("fn, words", [
    (clip_inverted, ["norm / max_norm instead of max_norm / norm", "ENLARGES"]),
    (clip_unguarded, ["for an all-zero gradient", "guard the division"]),
    (clip_unguarded_numpy, ["NaN for an all-zero gradient", "guard the division"]),
    (clip_returns_after, ["AFTER clipping"]),
    (clip_not_in_place, ["new array", "in place"]),
    (clip_per_array, ["each array was clipped on its own"]),
    (clip_always_rescale, ["below", "only ever SHRINKS"]),
    (clip_no_return, ["returned None"]),
    (clip_squared, ["squared norm"]),
])
def test_clip_grad_norm_rejects_bugs(fn, words):
    result = run_check("clip_grad_norm", fn)
    assert not result.passed
    for w in words:
        assert w in result.problems[0], result.problems[0]
    with pytest.raises(CheckFailed):
        check("clip_grad_norm", fn)


def test_clip_message_names_the_norms():
    msg = run_check("clip_grad_norm", clip_inverted).problems[0]
    assert "has norm 125 but should have 5" in msg


# ----------------------------------------------------------------------------
# predict_gradient_norm
# ----------------------------------------------------------------------------
def test_predict_reference_passes():
    assert run_check("predict_gradient_norm", lambda scale, T: scale ** T).passed
    assert run_check("predict_gradient_norm", 0.9 ** 50).passed      # a plain number works too


@pytest.mark.parametrize("fn, words", [
    (lambda scale, T: scale * T, ["scale * T"]),
    (lambda scale, T: scale ** (T - 1), ["T Jacobians"]),
    (lambda scale, T: 4.0 * scale ** T, ["Frobenius"]),
    (lambda scale, T: scale, ["ONE Jacobian"]),
    (lambda scale, T: 0.0, ["you predicted 0"]),
    (0.9 * 50, ["scale * T"]),
    (lambda scale, T: None, ["None"]),
])
def test_predict_rejects_wrong_answers(fn, words):
    result = run_check("predict_gradient_norm", fn)
    assert not result.passed
    for w in words:
        assert w in result.problems[0], result.problems[0]


# ----------------------------------------------------------------------------
# tanh_rnn_jacobian_norm
# ----------------------------------------------------------------------------
def jac_ref(Wh, hs):
    J = np.eye(Wh.shape[0])
    for h in hs:                                   # h_1, ..., h_T
        J = np.diag(1 - h ** 2) @ Wh.T @ J
    return np.linalg.norm(J, 2)


def jac_row_vectors(Wh, hs):                       # the transposed product: same spectral norm
    J = np.eye(Wh.shape[0])
    for h in hs[::-1]:
        J = J @ (np.diag(1 - h ** 2) @ Wh.T)
    return np.linalg.norm(J, 2)


def jac_no_transpose(Wh, hs):
    J = np.eye(Wh.shape[0])
    for h in hs:
        J = np.diag(1 - h ** 2) @ Wh @ J
    return np.linalg.norm(J, 2)


def jac_linear(Wh, hs):
    return np.linalg.norm(np.linalg.matrix_power(Wh.T, len(hs)), 2)


def jac_frobenius(Wh, hs):
    J = np.eye(Wh.shape[0])
    for h in hs:
        J = np.diag(1 - h ** 2) @ Wh.T @ J
    return np.linalg.norm(J)


def jac_one_minus_h(Wh, hs):
    J = np.eye(Wh.shape[0])
    for h in hs:
        J = np.diag(1 - h) @ Wh.T @ J
    return np.linalg.norm(J, 2)


def jac_previous_state(Wh, hs):
    prev = np.vstack([np.zeros((1, Wh.shape[0])), hs[:-1]])
    J = np.eye(Wh.shape[0])
    for h in prev:
        J = np.diag(1 - h ** 2) @ Wh.T @ J
    return np.linalg.norm(J, 2)


def jac_wrong_order(Wh, hs):
    J = np.eye(Wh.shape[0])
    for h in hs:
        J = J @ (np.diag(1 - h ** 2) @ Wh.T)
    return np.linalg.norm(J, 2)


def jac_skip_first(Wh, hs):
    J = np.eye(Wh.shape[0])
    for h in hs[1:]:
        J = np.diag(1 - h ** 2) @ Wh.T @ J
    return np.linalg.norm(J, 2)


@pytest.mark.parametrize("fn", [jac_ref, jac_row_vectors])
def test_jacobian_reference_passes(fn):
    assert run_check("tanh_rnn_jacobian_norm", fn).passed


@pytest.mark.parametrize("fn, words", [
    (jac_no_transpose, ["not transposed"]),
    (jac_linear, ["LINEAR RNN", "tanh derivative"]),
    (jac_frobenius, ["Frobenius"]),
    (jac_one_minus_h, ["not 1 - h_t"]),
    (jac_previous_state, ["previous state"]),
    (jac_wrong_order, ["wrong order"]),
    (jac_skip_first, ["T-1 Jacobians"]),
    (lambda Wh, hs: None, ["returned None"]),
])
def test_jacobian_rejects_bugs(fn, words):
    result = run_check("tanh_rnn_jacobian_norm", fn)
    assert not result.passed
    for w in words:
        assert w in result.problems[0], result.problems[0]


# ----------------------------------------------------------------------------
# issue 14: value clipping is named; PyTorch's eps is accepted; "length 1" only when true
# ----------------------------------------------------------------------------
def clip_value(grads, max_norm):                # np.clip on every entry
    norm = _norm(grads)
    for g in grads.values():
        np.clip(g, -max_norm, max_norm, out=g)
    return norm


def clip_torch(grads, max_norm):                # torch.nn.utils.clip_grad_norm_'s formula
    norm = _norm(grads)
    coef = max_norm / (norm + 1e-6)
    if coef < 1:
        for g in grads.values():
            g *= coef
    return norm


def clip_unit(grads, max_norm):                 # normalises instead of clipping
    norm = _norm(grads)
    if norm > max_norm:
        for g in grads.values():
            g /= norm
    return norm


def clip_big_eps(grads, max_norm):
    norm = _norm(grads)
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / (norm + 1e-2)
    return norm


def test_clip_value_clipping_named():
    msg = " ".join(run_check("clip_grad_norm", clip_value).problems)
    assert "value clipping" in msg and "every ENTRY" in msg
    assert "normalised" not in msg


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_clip_pytorch_eps_accepted(seed):
    assert run_check("clip_grad_norm", clip_torch, seed=seed).passed


def test_clip_unit_length_diagnosed_only_where_max_norm_is_not_1():
    msg = run_check("clip_grad_norm", clip_unit).problems[0]
    assert "normalised the gradient to length 1" in msg and "max_norm 5" in msg


def test_clip_too_large_eps_explained():
    msg = run_check("clip_grad_norm", clip_big_eps).problems[0]
    assert "max_norm / (norm + 0.01)" in msg and "up to 1e-06 (PyTorch's) is accepted" in msg
    assert "normalised" not in msg
