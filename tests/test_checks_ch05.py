"""Chapter 5 checks: the references pass, typical student bugs are rejected
with a message that names the right output and, where possible, the mistake."""
import numpy as np
import pytest

from lstm_course.activations import sigmoid
from lstm_course.checks import CheckFailed, check, run_check
from lstm_course.lstm import lstm_step_backward, lstm_step_forward


# ---------------------------------------------------------------- step forward
def make_step(o_state="c", i_peep=True, f_peep=True, swap_if=False, after=False,
              peep_h=False, full_matrix=False):
    """A student-style peephole LSTM step with one configurable mistake."""
    def step(x, prev_h, prev_c, Wx, Wh, b, p_i, p_f, p_o):
        H = prev_h.shape[1]
        a = x @ Wx + prev_h @ Wh + b
        a_i, a_f, a_o, a_g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        if swap_if:
            p_i, p_f = p_f, p_i
        s = prev_h if peep_h else prev_c
        if full_matrix:   # a "full" peephole matrix: every gate unit sees every cell
            P = np.outer(np.ones(H), p_i) * 0.5 + np.diag(p_i) * 0.5
            a_i = a_i + s @ P
        else:
            a_i = a_i + (p_i * s if i_peep else 0)
        a_f = a_f + (p_f * s if f_peep else 0)
        i, f, g = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g)
        c = f * prev_c + i * g
        if o_state == "c":
            o = sigmoid(a_o + p_o * c)
        elif o_state == "prev_c":
            o = sigmoid(a_o + p_o * prev_c)
        else:
            o = sigmoid(a_o)
        if after:
            o = sigmoid(a_o) + p_o * c
        return o * np.tanh(c), c
    return step


def ref_step(x, prev_h, prev_c, Wx, Wh, b, p_i, p_f, p_o):
    return lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, peepholes=(p_i, p_f, p_o))


def test_step_reference_and_student_style_pass(capsys):
    assert run_check("lstm_step_forward_peephole", ref_step).passed
    assert run_check("lstm_step_forward_peephole", make_step()).passed
    check("lstm_step_forward_peephole", make_step())
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("kw, words", [
    (dict(o_state="prev_c"), ["next_h", "OLD cell state", "NEW"]),
    (dict(o_state="none"), ["next_h", "output gate has no peephole"]),
    (dict(i_peep=False), ["next_c", "input gate has no peephole"]),
    (dict(f_peep=False), ["next_c", "forget gate has no peephole"]),
    (dict(swap_if=True), ["next_c", "swapped p_i and p_f"]),
    (dict(after=True), ["next_h", "AFTER the sigmoid"]),
    (dict(peep_h=True), ["next_c", "prev_h instead of the cell state"]),
    (dict(full_matrix=True), ["next_c", "input gate"]),
])
def test_step_mistakes_are_named(kw, words):
    res = run_check("lstm_step_forward_peephole", make_step(**kw))
    assert not res.passed
    text = " ".join(res.problems)
    for w in words:
        assert w in text, (w, text)


def test_step_c_right_h_wrong_points_at_output_gate():
    def step(*args):
        h, c = make_step()(*args)
        return h * 1.01, c
    text = " ".join(run_check("lstm_step_forward_peephole", step).problems)
    assert "next_h" in text and "next_c is right" in text


def test_step_in_place_and_bad_return():
    def inplace(x, prev_h, prev_c, Wx, Wh, b, p_i, p_f, p_o):
        out = ref_step(x, prev_h, prev_c, Wx, Wh, b, p_i, p_f, p_o)
        prev_c += 1.0
        return out
    res = run_check("lstm_step_forward_peephole", inplace)
    assert not res.passed
    assert "next_" in " ".join(res.problems) or "prev_c" in " ".join(res.problems)
    assert "returned None" in run_check("lstm_step_forward_peephole", lambda *a: None).problems[0]

    def stub(*a):
        raise NotImplementedError
    with pytest.raises(CheckFailed):
        check("lstm_step_forward_peephole", stub)


# ---------------------------------------------------------------- peephole grads
def make_grads(dc_peep=True, o_state="next_c", if_state="prev_c", o_sig=True, no_sum=False,
               sign=1.0, mean=False):
    def grads(dnext_h, dnext_c, cache):
        prev_c, next_c = cache["prev_c"], cache["next_c"]
        i, f, o, g, tc = cache["i"], cache["f"], cache["o"], cache["g"], cache["tanh_c"]
        p_i, p_f, p_o = cache["peepholes"]
        da_o = dnext_h * tc * (o * (1 - o) if o_sig else 1.0)
        dc = dnext_c + dnext_h * o * (1 - tc ** 2) + (da_o * p_o if dc_peep else 0)
        da_i = dc * g * i * (1 - i)
        da_f = dc * prev_c * f * (1 - f)
        s_if = prev_c if if_state == "prev_c" else next_c
        s_o = next_c if o_state == "next_c" else prev_c
        out = (da_i * s_if, da_f * s_if, sign * da_o * s_o)
        if mean:                                  # a mean over the batch, not the sum
            return tuple(a.mean(axis=0) for a in out)
        return out if no_sum else tuple(a.sum(axis=0) for a in out)
    return grads


def ref_grads(dnext_h, dnext_c, cache):
    return lstm_step_backward(dnext_h, dnext_c, cache)[6]


def test_grads_reference_passes():
    assert run_check("peephole_grads", ref_grads).passed
    assert run_check("peephole_grads", make_grads()).passed


@pytest.mark.parametrize("kw, words", [
    (dict(dc_peep=False), ["dp_i", "dp_f", "extra path into dc"]),
    (dict(o_state="prev_c"), ["dp_o", "NEW cell state"]),
    (dict(o_sig=False), ["dp_o", "o * (1 - o)"]),
    (dict(if_state="next_c"), ["dp_i", "OLD cell state"]),
    (dict(no_sum=True), ["dp_i", "sum its gradient over the batch"]),
    (dict(sign=-1.0), ["dp_o", "dp_i, dp_f are right"]),
    (dict(mean=True), ["dp_i is exactly 1/N", "averaged over the batch where it must be summed"]),
])
def test_grads_mistakes_are_named(kw, words):
    res = run_check("peephole_grads", make_grads(**kw))
    assert not res.passed
    text = " ".join(res.problems)
    for w in words:
        assert w in text, (w, text)
    if "dc_peep" in kw:  # dp_o itself is right in that case
        assert "dp_o:" not in text


# ---------------------------------------------------------------- output gate
def ref_gate(a_o, p_o, c):
    o = sigmoid(a_o + p_o * c)
    return o, o * (1 - o) * p_o


def test_gate_reference_passes(capsys):
    assert run_check("peephole_output_gate", ref_gate).passed
    check("peephole_output_gate", ref_gate)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("fn, words", [
    (lambda a, p, c: (sigmoid(a) + p * c, None), ["o:", "inside the sigmoid"]),
    (lambda a, p, c: (sigmoid(a), None), ["o:", "ignores the peephole"]),
    (lambda a, p, c: (sigmoid(a + p * c), sigmoid(a + p * c) * (1 - sigmoid(a + p * c))),
     ["do_dc", "p_o"]),
    (lambda a, p, c: (sigmoid(a + p * c), sigmoid(a + p * c) * p), ["do_dc", "not o"]),
    (lambda a, p, c: (sigmoid(a + p * c), sigmoid(a + p * c) * (1 - sigmoid(a + p * c)) * c),
     ["do_dc", "with respect to p_o"]),
    (lambda a, p, c: (1 / (1 + np.exp(-(a + p * c))), np.exp(-(a + p * c)) * p /
                      (1 + np.exp(-(a + p * c))) ** 2), ["do_dc", "NaN or inf"]),
])
def test_gate_mistakes_are_named(fn, words):
    res = run_check("peephole_output_gate", fn)
    assert not res.passed
    text = " ".join(res.problems)
    for w in words:
        assert w in text, (w, text)
