"""Tests for lstm_course.train with tiny fake models."""
import numpy as np
import pytest

from lstm_course.optim import SGD, Adam
from lstm_course.train import History, train


class LinearRegression:
    """y = x @ W + b with mean squared error: the smallest model with the interface."""

    def __init__(self, D, seed=0):
        rng = np.random.default_rng(seed)
        self.parameters = {"W": 0.1 * rng.normal(size=(D, 1)), "b": np.zeros(1)}
        self.states_seen = []

    def loss_and_grads(self, inputs, targets, state):
        self.states_seen.append(state)
        W, b = self.parameters["W"], self.parameters["b"]
        err = inputs @ W + b - targets[:, None]  # (N, 1)
        loss = float(np.mean(err**2))
        dout = 2 * err / len(err)
        grads = {"W": inputs.T @ dout, "b": dout.sum(axis=0)}
        return loss, grads, len(self.states_seen)  # the "state" counts calls

    def mse(self, inputs, targets):
        pred = inputs @ self.parameters["W"] + self.parameters["b"]
        return float(np.mean((pred[:, 0] - targets) ** 2))


def _regression_data(n=64, D=3, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, D))
    y = x @ np.array([1.5, -2.0, 0.5]) + 0.3 + noise * rng.normal(size=n)
    return x, y


def test_train_reduces_the_loss_and_records_history():
    x, y = _regression_data()
    model = LinearRegression(3)
    hist = train(model, lambda step: (x, y, True), SGD(lr=0.1), num_steps=200, progress=False)
    assert isinstance(hist, History)
    assert len(hist.loss) == len(hist.grad_norm) == len(hist.step) == 200
    assert hist.step == list(range(200))
    assert hist.loss[-1] < 1e-4 * hist.loss[0]
    assert model.mse(x, y) < 1e-4 * hist.loss[0]  # the model itself was trained
    assert hist.grad_norm[-1] < hist.grad_norm[0]
    assert hist.stopped is None and not hist.stopped_early


def test_state_is_carried_over_unless_reset():
    x, y = _regression_data()
    model = LinearRegression(3)
    # reset on every third step only
    train(model, lambda step: (x, y, step % 3 == 0), SGD(lr=0.01), 7, progress=False)
    assert model.states_seen == [None, 1, 2, None, 4, 5, None]


def test_grad_norm_is_recorded_before_clipping_and_clipping_is_applied():
    x, y = _regression_data()
    x = 100 * x  # huge gradients

    class Recorder(SGD):
        def step(self, params, grads):
            self.norms.append(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
            super().step(params, grads)

    opt = Recorder(lr=1e-6)
    opt.norms = []
    hist = train(LinearRegression(3), lambda s: (x, y, True), opt, 5, clip_norm=1.0, progress=False)
    assert all(n > 1.0 for n in hist.grad_norm)  # logged: unclipped
    np.testing.assert_allclose(opt.norms, 1.0, rtol=1e-12)  # used: clipped


def test_clip_value_is_applied():
    x, y = _regression_data()
    seen = []

    class Recorder(SGD):
        def step(self, params, grads):
            seen.append(max(np.max(np.abs(g)) for g in grads.values()))
            super().step(params, grads)

    train(LinearRegression(3), lambda s: (100 * x, y, True), Recorder(lr=1e-6), 3,
          clip_value=0.5, progress=False)
    assert max(seen) <= 0.5


def test_early_stopping_when_validation_stops_improving():
    # few noisy training points, D=3 and a validation set: validation stalls
    x_tr, y_tr = _regression_data(n=8, seed=1, noise=1.0)
    x_va, y_va = _regression_data(n=200, seed=2, noise=1.0)
    model = LinearRegression(3)
    hist = train(
        model,
        lambda s: (x_tr, y_tr, True),
        Adam(lr=0.05),
        num_steps=5000,
        val_fn=lambda m: m.mse(x_va, y_va),
        eval_every=10,
        patience=5,
        progress=False,
    )
    assert hist.stopped_early
    assert len(hist.loss) < 5000
    assert hist.val_step[0] == 9 and np.all(np.diff(hist.val_step) == 10)
    # the last `patience` evaluations did not beat the best before them
    best_before = min(hist.val_loss[:-5])
    assert min(hist.val_loss[-5:]) >= best_before
    assert hist.best_val_loss == best_before
    assert hist.best_val_loss < hist.val_loss[0]  # but it did improve at first


def test_no_early_stop_without_patience_and_final_evaluation():
    x, y = _regression_data()
    hist = train(LinearRegression(3), lambda s: (x, y, True), SGD(lr=0.05), 25,
                 val_fn=lambda m: m.mse(x, y), eval_every=10, progress=False)
    assert hist.val_step == [9, 19, 24]  # every 10 steps and after the last
    assert hist.stopped is None


def test_min_char_rnn_style_gradient_names_are_accepted():
    x, y = _regression_data()

    class DPrefixed(LinearRegression):
        def loss_and_grads(self, inputs, targets, state):
            loss, grads, state = super().loss_and_grads(inputs, targets, state)
            return loss, {"d" + k: g for k, g in grads.items()}, state

    hist = train(DPrefixed(3), lambda s: (x, y, True), SGD(lr=0.1), 50, progress=False)
    assert hist.loss[-1] < 0.01 * hist.loss[0]


def test_training_stops_on_a_non_finite_loss():
    x, y = _regression_data()
    with np.errstate(over="ignore", invalid="ignore"):  # the fake model overflows
        hist = train(LinearRegression(3), lambda s: (x, y, True), SGD(lr=10.0), 500,
                     progress=False)
    assert hist.stopped == "non_finite"
    assert len(hist.loss) < 500
    assert not np.isfinite(hist.loss[-1]) or not np.isfinite(hist.grad_norm[-1])


def test_progress_bar_runs(capsys):
    x, y = _regression_data()
    train(LinearRegression(3), lambda s: (x, y, True), SGD(lr=0.1), 20, progress=True)
    assert "training" in capsys.readouterr().err


def test_train_validation():
    x, y = _regression_data()
    with pytest.raises(ValueError, match="patience"):
        train(LinearRegression(3), lambda s: (x, y, True), SGD(), 10, patience=3, progress=False)
    with pytest.raises(ValueError, match="num_steps"):
        train(LinearRegression(3), lambda s: (x, y, True), SGD(), 0, progress=False)
