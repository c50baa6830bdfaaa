"""Chapter 8 checks: the references pass, and typical student bugs are rejected with a
message that names the wrong output (and, where possible, the mistake)."""
import numpy as np
import pytest

from lstm_course.activations import sigmoid
from lstm_course.checks import CheckFailed, check, run_check
from lstm_course.lstm import lstm_step_forward


# ------------------------------------------------------------------ adding_metrics
def make_metrics(bug=None):
    def adding_metrics(y_pred, y, tol=0.04):
        err = y_pred - y
        mse = np.mean(err ** 2)
        base = np.mean((y - 1.0) ** 2)
        acc = np.mean(np.abs(err) < tol)
        if bug == "rmse":
            mse = np.sqrt(mse)
        elif bug == "mae":
            mse = np.mean(np.abs(err))
        elif bug == "sum":
            mse = np.sum(err ** 2)
        elif bug == "sample_mean_baseline":
            base = np.var(y)
        elif bug == "baseline_vs_pred":
            base = np.mean((y_pred - 1.0) ** 2)
        elif bug == "baseline_zero":
            base = np.mean(y ** 2)
        elif bug == "le":
            acc = np.mean(np.abs(err) <= tol)
        elif bug == "count":
            acc = np.sum(np.abs(err) < tol)
        elif bug == "signed":
            acc = np.mean(err < tol)
        elif bug == "two_values":
            return mse, base
        return mse, base, acc
    return adding_metrics


def test_adding_metrics_reference_passes(capsys):
    assert run_check("adding_metrics", make_metrics()).passed
    check("adding_metrics", make_metrics())
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("bug, words", [
    ("rmse", ["mse:", "square root"]),
    ("mae", ["mse:", "ABSOLUTE"]),
    ("sum", ["mse:", "SUM"]),
    ("sample_mean_baseline", ["baseline_mse:", "sample mean", "constant 1.0"]),
    ("baseline_vs_pred", ["baseline_mse:", "TARGETS"]),
    ("baseline_zero", ["baseline_mse:", "predicting 0"]),
    ("le", ["accuracy:", "strictly"]),
    ("count", ["accuracy:", "FRACTION"]),
    ("signed", ["accuracy:", "absolute error"]),
    ("two_values", ["(mse, baseline_mse, accuracy)", "3 values"]),
])
def test_adding_metrics_bugs_rejected(bug, words):
    result = run_check("adding_metrics", make_metrics(bug))
    assert not result.passed
    text = " ".join(result.problems)
    for w in words:
        assert w in text, (bug, text)


# ------------------------------------------------------------------ cifg_step_forward
def make_cifg(bug=None):
    def step(x, prev_h, prev_c, Wx, Wh, b):
        H = prev_h.shape[1]
        a = x @ Wx + prev_h @ Wh + b
        i, f_own = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
        o, g = sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        f = 1 - i
        if bug == "own_f":
            f = f_own
        elif bug == "f_equals_i":
            f = i
        elif bug == "no_f":
            f = np.ones_like(i)
        if bug == "swapped":
            c = i * prev_c + (1 - i) * g
        else:
            c = f * prev_c + i * g
        h = o * (c if bug == "noaf" else np.tanh(c))
        if bug == "old_c":
            h = o * np.tanh(prev_c)
        if bug == "inplace":
            prev_c *= 0.5
            c = (1 - i) * (2 * prev_c) + i * g
            h = o * np.tanh(c)
        if bug == "swap_outputs":
            return c, h
        return h, c
    return step


def test_cifg_reference_passes(capsys):
    def ref(x, prev_h, prev_c, Wx, Wh, b):
        H = Wh.shape[0]
        Wx2, Wh2, b2 = Wx.copy(), Wh.copy(), b.copy()
        Wx2[:, H:2 * H], Wh2[:, H:2 * H], b2[H:2 * H] = -Wx[:, :H], -Wh[:, :H], -b[:H]
        h, c, _ = lstm_step_forward(x, prev_h, prev_c, Wx2, Wh2, b2)
        return h, c

    assert run_check("cifg_step_forward", ref).passed
    assert run_check("cifg_step_forward", make_cifg()).passed
    check("cifg_step_forward", make_cifg())
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("bug, words", [
    ("own_f", ["next_c", "own weights", "f = 1 - i"]),
    ("f_equals_i", ["next_c", "f = i"]),
    ("no_f", ["next_c", "no forget gate"]),
    ("swapped", ["next_c", "swapped"]),
    ("noaf", ["next_h", "output activation tanh is missing"]),
    ("old_c", ["next_h", "NEW cell state"]),
    ("inplace", ["modified its inputs in place"]),
    ("swap_outputs", ["next_c", "next_h"]),
])
def test_cifg_bugs_rejected(bug, words):
    result = run_check("cifg_step_forward", make_cifg(bug))
    assert not result.passed
    text = " ".join(result.problems)
    for w in words:
        assert w in text, (bug, text)
    if bug in ("own_f", "f_equals_i", "no_f", "swapped"):
        assert "next_h" in text   # both outputs are reported


def test_cifg_failure_raises_and_prints(capsys):
    with pytest.raises(CheckFailed):
        check("cifg_step_forward", make_cifg("f_equals_i"))
    out = capsys.readouterr().out
    assert "✘ cifg_step_forward" in out and "f = i" in out


def test_cifg_not_implemented():
    def stub(*args):
        raise NotImplementedError
    result = run_check("cifg_step_forward", stub)
    assert not result.passed and "not implemented" in result.problems[0]


# ------------------------------------------------------------------ mean_std
def make_mean_std(bug=None):
    def mean_std(values):
        values = np.asarray(values, dtype=float)
        m, s = values.mean(), values.std(ddof=1)
        if bug == "ddof0":
            s = values.std()
        elif bug == "var":
            s = values.var(ddof=1)
        elif bug == "sem":
            s = values.std(ddof=1) / np.sqrt(len(values))
        elif bug == "median":
            m = np.median(values)
        elif bug == "array":
            return values, s
        return m, s
    return mean_std


def test_mean_std_reference_passes():
    assert run_check("mean_std", make_mean_std()).passed


@pytest.mark.parametrize("bug, words", [
    ("ddof0", ["std:", "ddof=0", "n - 1"]),
    ("var", ["std:", "variance"]),
    ("sem", ["std:", "standard error"]),
    ("median", ["mean:", "median"]),
    ("array", ["mean:", "one number"]),
])
def test_mean_std_bugs_rejected(bug, words):
    result = run_check("mean_std", make_mean_std(bug))
    assert not result.passed
    text = " ".join(result.problems)
    for w in words:
        assert w in text, (bug, text)


# ------------------------------------------------------------------ compare_seeds
def make_compare(bug=None):
    def compare_seeds(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        d = a - b
        m, s, w = d.mean(), d.std(ddof=1), np.sum(a < b)
        if bug == "reversed":
            m = -m
        elif bug == "unpaired":
            s = np.sqrt(a.var(ddof=1) + b.var(ddof=1))
        elif bug == "ddof0":
            s = d.std()
        elif bug == "sorted":
            s = (np.sort(a) - np.sort(b)).std(ddof=1)
        elif bug == "le":
            w = np.sum(a <= b)
        elif bug == "higher":
            w = np.sum(a > b)
        elif bug == "fraction":
            w = np.mean(a < b)
        return m, s, w
    return compare_seeds


def test_compare_seeds_reference_passes():
    assert run_check("compare_seeds", make_compare()).passed


@pytest.mark.parametrize("bug, words", [
    ("reversed", ["mean_diff:", "a - b"]),
    ("unpaired", ["std_diff:", "unpaired"]),
    ("ddof0", ["std_diff:", "ddof=1"]),
    ("sorted", ["std_diff:", "sorted"]),
    ("le", ["wins:", "tie"]),
    ("higher", ["wins:", "lower is better"]),
    ("fraction", ["wins:", "NUMBER"]),
])
def test_compare_seeds_bugs_rejected(bug, words):
    result = run_check("compare_seeds", make_compare(bug))
    assert not result.passed
    text = " ".join(result.problems)
    for w in words:
        assert w in text, (bug, text)
