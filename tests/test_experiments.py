"""lstm_course.experiments: LSTM variants (NFG, NOAF, CIFG) and the small models of
chapter 8, checked against the package and against numerical gradients (float64)."""
import numpy as np
import pytest

from lstm_course.experiments import (VARIANTS, LastStepRegressor, NextSymbolLSTM,
                                     lstm_variant_backward, lstm_variant_forward)
from lstm_course.gradcheck import eval_numerical_gradient, rel_error
from lstm_course.lstm import lstm_backward, lstm_forward
from lstm_course.tasks import adding_problem, continual_embedded_reber, reber_encode


def numerical(f, x, h=3e-4):
    """Centred differences of the scalar f() w.r.t. x, Richardson-extrapolated
    ((4 D(h) - D(2h)) / 3 cancels the h**2 term; as in test_lstm.py), so a fairly
    large h with little rounding noise still gives ~1e-12 absolute accuracy."""
    return (4 * eval_numerical_gradient(f, x, h=h) - eval_numerical_gradient(f, x, h=2 * h)) / 3


def assert_grad(label, analytic, num):
    # entry by entry; entries below 1e-4 get an absolute tolerance of 1e-11 (as in test_lstm.py)
    err = rel_error(analytic, num, eps=1e-4)
    assert err < 1e-7, f"{label}: relative error {err:.2e}"


def _case(seed=0, N=2, T=5, D=3, H=4, scale=0.5):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(N, T, D)), rng.normal(size=(N, H)) * 0.5,
            rng.normal(size=(N, H)) * 0.5, rng.normal(0, scale, (D, 4 * H)),
            rng.normal(0, scale, (H, 4 * H)), rng.normal(0, scale, 4 * H),
            rng.normal(size=(N, T, H)), rng.normal(size=(N, H)))


@pytest.mark.parametrize("variant, kw", [("vanilla", {}), ("NFG", {"forget_gate": False})])
def test_vanilla_and_nfg_equal_the_package(variant, kw):
    x, h0, c0, Wx, Wh, b, dh, dcT = _case()
    h, cache = lstm_variant_forward(x, h0, Wx, Wh, b, c0=c0, variant=variant)
    h_ref, cache_ref = lstm_forward(x, h0, Wx, Wh, b, c0=c0, **kw)
    assert np.allclose(h, h_ref, rtol=1e-12, atol=1e-14)
    dx, dh0, dc0, dWx, dWh, db = lstm_variant_backward(dh, cache, dc_T=dcT)
    ref = lstm_backward(dh, cache_ref, dc_T=dcT, return_dc0=True)
    for got, exp in zip((dx, dh0, dWx, dWh, db, dc0), ref):
        assert np.allclose(got, exp, rtol=1e-10, atol=1e-12)


def test_cifg_equals_package_with_negated_input_gate_as_forget_gate():
    x, h0, c0, Wx, Wh, b, _, _ = _case(1)
    H = Wh.shape[0]
    Wx2, Wh2, b2 = Wx.copy(), Wh.copy(), b.copy()
    Wx2[:, H:2 * H], Wh2[:, H:2 * H], b2[H:2 * H] = -Wx[:, :H], -Wh[:, :H], -b[:H]
    h, _ = lstm_variant_forward(x, h0, Wx, Wh, b, c0=c0, variant="CIFG")
    h_ref, _ = lstm_forward(x, h0, Wx2, Wh2, b2, c0=c0)
    assert np.allclose(h, h_ref, rtol=1e-12, atol=1e-14)


def test_noaf_output_is_o_times_c():
    x, h0, c0, Wx, Wh, b, _, _ = _case(2)
    h, cache = lstm_variant_forward(x, h0, Wx, Wh, b, c0=c0, variant="NOAF")
    assert np.allclose(h, cache["gates"][:, :, 2] * cache["c"][:, 1:])


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_gradients_numerically(variant):
    x, h0, c0, Wx, Wh, b, dh, dcT = _case(3)
    inputs = {"x": x, "h0": h0, "c0": c0, "Wx": Wx, "Wh": Wh, "b": b}

    def loss():
        h, cache = lstm_variant_forward(x, h0, Wx, Wh, b, c0=c0, variant=variant)
        return np.sum(h * dh) + np.sum(cache["c"][:, -1] * dcT)

    _, cache = lstm_variant_forward(x, h0, Wx, Wh, b, c0=c0, variant=variant)
    dx, dh0, dc0, dWx, dWh, db = lstm_variant_backward(dh, cache, dc_T=dcT)
    analytic = {"x": dx, "h0": dh0, "c0": dc0, "Wx": dWx, "Wh": dWh, "b": db}
    for name, arr in inputs.items():
        assert_grad(f"{variant} {name}", analytic[name], numerical(loss, arr))
    if variant in ("NFG", "CIFG"):
        H = Wh.shape[0]
        assert np.all(dWx[:, H:2 * H] == 0) and np.all(db[H:2 * H] == 0)


def test_cifg_cell_state_stays_in_unit_interval():
    rng = np.random.default_rng(0)
    N, T, D, H = 3, 200, 2, 4
    h, cache = lstm_variant_forward(rng.normal(0, 3, (N, T, D)), np.zeros((N, H)),
                                    rng.normal(0, 3, (D, 4 * H)), rng.normal(0, 3, (H, 4 * H)),
                                    rng.normal(0, 3, 4 * H), variant="CIFG")
    # |c_t| < 1 in exact arithmetic; a saturated gate can round c to exactly +-1.0
    assert np.abs(cache["c"]).max() <= 1


def test_bad_variant_and_shapes():
    x, h0, c0, Wx, Wh, b, _, _ = _case()
    with pytest.raises(ValueError, match="variant"):
        lstm_variant_forward(x, h0, Wx, Wh, b, variant="GRU")
    with pytest.raises(ValueError, match="Wx"):
        lstm_variant_forward(x, h0, Wx[:2], Wh, b)
    with pytest.raises(ValueError, match="variant"):
        NextSymbolLSTM(variant="nope")
    with pytest.raises(ValueError, match="cell"):
        LastStepRegressor("gru")


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_last_step_regressor_gradients(cell):
    x, y = adding_problem(3, 6, seed=0)
    model = LastStepRegressor(cell, D=2, H=3, seed=3)
    loss, grads, state = model.loss_and_grads(x, y)
    assert state is None and set(grads) == set(model.parameters)
    assert np.isclose(loss, np.mean((model.predict(x) - y) ** 2))
    for k, p in model.parameters.items():
        assert_grad(k, grads[k], numerical(lambda: model.loss_and_grads(x, y)[0], p))


@pytest.mark.parametrize("variant", list(VARIANTS) + ["PH"])
def test_next_symbol_lstm_gradients_and_state(variant):
    s = continual_embedded_reber(2, seed=1)
    x = reber_encode(s)[None, :8]
    y = np.array([[list("BTSXPVE").index(ch) for ch in s[1:9]]])
    model = NextSymbolLSTM(V=7, H=3, variant=variant, seed=2)
    state = (np.full((1, 3), 0.1), np.full((1, 3), -0.2))
    loss, grads, final = model.loss_and_grads(x, y, state)
    assert set(grads) == set(model.parameters)
    for k, p in model.parameters.items():
        assert_grad(f"{variant} {k}", grads[k],
                    numerical(lambda: model.loss_and_grads(x, y, state)[0], p))
    # the final state continues the stream: two chunks == one long chunk
    probs_all, _ = model.predict_proba(x)
    probs_a, st = model.predict_proba(x[:, :4])
    probs_b, _ = model.predict_proba(x[:, 4:], st)
    assert np.allclose(probs_all, np.concatenate([probs_a, probs_b], axis=1))
    assert final[0].shape == (1, 3) and np.allclose(probs_all.sum(axis=2), 1)
