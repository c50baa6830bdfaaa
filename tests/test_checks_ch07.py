"""Chapter 7 checks: the reference passes, realistic student bugs are rejected with a useful message."""
import numpy as np
import pytest

from lstm_course.checks import CheckFailed, check, run_check
from lstm_course.optim import clip_grad_norm, clip_grad_value, global_norm


# ----------------------------------------------------------------------------
# temperature_probs and sample_with_temperature
# ----------------------------------------------------------------------------
def probs_ref(logits, temperature):
    z = np.asarray(logits, dtype=float) / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def probs_multiply(logits, temperature):
    z = np.asarray(logits, dtype=float) * temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def probs_no_shift(logits, temperature):
    e = np.exp(np.asarray(logits, dtype=float) / temperature)
    return e / e.sum()


def probs_ignores_T(logits, temperature):
    return probs_ref(logits, 1.0)


def probs_unnormalised(logits, temperature):
    z = np.asarray(logits, dtype=float) / temperature
    return np.exp(z - z.max())


def probs_power(logits, temperature):        # p ** (1/T), renormalised: correct mathematically
    p = probs_ref(logits, 1.0)
    q = p ** (1.0 / temperature)
    return q / q.sum()


def sample_ref(logits, temperature, rng):
    p = probs_ref(logits, temperature)
    return int(rng.choice(len(p), p=p))


def sample_inverse_cdf(logits, temperature, rng):   # another correct way
    p = probs_ref(logits, temperature)
    return int(min(np.searchsorted(np.cumsum(p), rng.random(), side="right"), len(p) - 1))


def sample_multiply(logits, temperature, rng):
    p = probs_multiply(logits, temperature)
    return int(rng.choice(len(p), p=p))


def sample_argmax(logits, temperature, rng):
    return int(np.argmax(logits))


def sample_global_rng(logits, temperature, rng):
    p = probs_ref(logits, temperature)
    return int(np.random.choice(len(p), p=p))


def sample_no_shift(logits, temperature, rng):
    p = probs_no_shift(logits, temperature)
    return int(rng.choice(len(p), p=p))


def test_temperature_probs_reference_passes():
    assert run_check("temperature_probs", probs_ref).passed
    assert run_check("temperature_probs", probs_power).passed   # equivalent formula


@pytest.mark.parametrize("fn, words", [
    (probs_multiply, "divide the scores by T"),
    (probs_no_shift, "Subtract the largest score"),
    (probs_ignores_T, "temperature was not used"),
    (probs_unnormalised, "not 1"),
])
def test_temperature_probs_rejects(fn, words):
    res = run_check("temperature_probs", fn)
    assert not res.passed
    assert words in res.problems[0], res.problems


def test_sample_reference_passes():
    assert run_check("sample_with_temperature", sample_ref).passed
    assert run_check("sample_with_temperature", sample_inverse_cdf).passed


@pytest.mark.parametrize("fn, words", [
    (sample_multiply, "do not multiply"),
    (sample_argmax, "always return the same index"),
    (sample_global_rng, "same seed gave different draws"),
    (sample_no_shift, "subtract the largest score"),
])
def test_sample_rejects(fn, words):
    res = run_check("sample_with_temperature", fn)
    assert not res.passed
    assert any(words in p for p in res.problems), res.problems


# ----------------------------------------------------------------------------
# evaluate_per_char
# ----------------------------------------------------------------------------
def _chunks(text_ix, T):
    inputs_all, targets_all = text_ix[:-1], text_ix[1:]
    for s in range(0, len(inputs_all), T):
        yield inputs_all[None, s:s + T], targets_all[None, s:s + T]


def evaluate_ref(model, text_ix, T):
    state, total = None, 0.0
    for x, y in _chunks(text_ix, T):
        loss, _, state = model.loss_and_grads(x, y, state)
        total += loss * x.shape[1]
    return total / (len(text_ix) - 1)


def evaluate_bits(model, text_ix, T):
    return evaluate_ref(model, text_ix, T) / np.log(2)


def evaluate_no_state(model, text_ix, T):
    total = 0.0
    for x, y in _chunks(text_ix, T):
        loss, _, _ = model.loss_and_grads(x, y)
        total += loss * x.shape[1]
    return total / (len(text_ix) - 1)


def evaluate_chunk_mean(model, text_ix, T):
    state, losses = None, []
    for x, y in _chunks(text_ix, T):
        loss, _, state = model.loss_and_grads(x, y, state)
        losses.append(loss)
    return float(np.mean(losses))


def evaluate_drop_last(model, text_ix, T):
    state, total, count = None, 0.0, 0
    for x, y in _chunks(text_ix, T):
        if x.shape[1] < T:
            break
        loss, _, state = model.loss_and_grads(x, y, state)
        total += loss * x.shape[1]
        count += x.shape[1]
    return total / count


def evaluate_trains(model, text_ix, T):
    value = evaluate_ref(model, text_ix, T)
    for x, y in _chunks(text_ix, T):
        _, grads, _ = model.loss_and_grads(x, y)
        for k in model.parameters:
            model.parameters[k] -= 0.1 * grads[k]
    return value


def test_evaluate_reference_passes():
    assert run_check("evaluate_per_char", evaluate_ref).passed


@pytest.mark.parametrize("fn, words", [
    (evaluate_bits, "loss in bits"),
    (evaluate_no_state, "zero state"),
    (evaluate_chunk_mean, "weight each chunk"),
    (evaluate_drop_last, "leaves out the last"),
    (evaluate_trains, "changed the model's parameters"),
])
def test_evaluate_rejects(fn, words):
    res = run_check("evaluate_per_char", fn)
    assert not res.passed
    assert words in res.problems[0], res.problems


# ----------------------------------------------------------------------------
# train_step
# ----------------------------------------------------------------------------
def train_step_ref(model, inputs, targets, state, optimizer, max_norm):
    loss, grads, state = model.loss_and_grads(inputs, targets, state)
    norm = clip_grad_norm(grads, max_norm)
    optimizer.step(model.parameters, grads)
    return loss, grads, state, norm


def train_step_no_clip(model, inputs, targets, state, optimizer, max_norm):
    loss, grads, state = model.loss_and_grads(inputs, targets, state)
    norm = global_norm(grads)
    optimizer.step(model.parameters, grads)
    return loss, grads, state, norm


def train_step_clip_after(model, inputs, targets, state, optimizer, max_norm):
    loss, grads, state = model.loss_and_grads(inputs, targets, state)
    optimizer.step(model.parameters, grads)
    norm = clip_grad_norm(grads, max_norm)
    return loss, grads, state, norm


def train_step_value_clip(model, inputs, targets, state, optimizer, max_norm):
    loss, grads, state = model.loss_and_grads(inputs, targets, state)
    norm = global_norm(grads)
    clip_grad_value(grads, max_norm)
    optimizer.step(model.parameters, grads)
    return loss, grads, state, norm


def train_step_norm_after(model, inputs, targets, state, optimizer, max_norm):
    loss, grads, state = model.loss_and_grads(inputs, targets, state)
    clip_grad_norm(grads, max_norm)
    optimizer.step(model.parameters, grads)
    return loss, grads, state, global_norm(grads)


def train_step_no_state(model, inputs, targets, state, optimizer, max_norm):
    loss, grads, state = model.loss_and_grads(inputs, targets)
    norm = clip_grad_norm(grads, max_norm)
    optimizer.step(model.parameters, grads)
    return loss, grads, state, norm


def train_step_clip_copy(model, inputs, targets, state, optimizer, max_norm):
    loss, grads, state = model.loss_and_grads(inputs, targets, state)
    clipped = {k: g.copy() for k, g in grads.items()}
    norm = clip_grad_norm(clipped, max_norm)
    optimizer.step(model.parameters, grads)       # steps with the unclipped copy
    return loss, clipped, state, norm


def test_train_step_reference_passes():
    assert run_check("train_step", train_step_ref).passed


@pytest.mark.parametrize("fn, words", [
    (train_step_no_clip, "WITHOUT clipping"),
    (train_step_clip_after, "UNCLIPPED gradients"),
    (train_step_value_clip, "value clipping"),
    (train_step_norm_after, "norm BEFORE clipping"),
    (train_step_no_state, "state is probably not carried"),
    (train_step_clip_copy, "UNCLIPPED gradients"),
])
def test_train_step_rejects(fn, words):
    res = run_check("train_step", fn)
    assert not res.passed
    assert any(words in p for p in res.problems), res.problems


def test_check_raises_and_prints(capsys):
    with pytest.raises(CheckFailed):
        check("evaluate_per_char", evaluate_bits)
    out = capsys.readouterr().out
    assert "✘ evaluate_per_char" in out and "bits" in out
    check("temperature_probs", probs_ref)
    assert "✔ temperature_probs" in capsys.readouterr().out
