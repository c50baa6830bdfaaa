"""Chapter 4 checks: the references pass, typical student bugs are rejected
with a message that names the right output and, where possible, the mistake."""
import numpy as np
import pytest

from lstm_course.activations import sigmoid
from lstm_course.checks import CheckFailed, check, run_check
from lstm_course.lstm import lstm_step_forward


# ---------------------------------------------------------------- helpers
def make_step(order="ifog", g_act=np.tanh, gate_act=sigmoid, h_mode="tanh",
              c_old="prev_c", a_old="prev_h", forget=True, swap_return=False, f_zero=False):
    """A student-style LSTM step with one configurable mistake."""
    def step(x, prev_h, prev_c, Wx, Wh, b):
        H = prev_h.shape[1]
        a = x @ Wx + (prev_h if a_old == "prev_h" else prev_c) @ Wh + b
        blocks = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
        i, o = gate_act(blocks["i"]), gate_act(blocks["o"])
        f = gate_act(blocks["f"]) if forget else 1.0
        if f_zero:
            f = 0.0
        g = g_act(blocks["g"])
        c = f * (prev_c if c_old == "prev_c" else prev_h) + i * g
        h = o * np.tanh(c) if h_mode == "tanh" else o * c
        return (c, h) if swap_return else (h, c)
    return step


def ref_no_forget(x, prev_h, prev_c, Wx, Wh, b):
    return lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, forget_gate=False)


def _activation(z):
    H = z.shape[1] // 4
    return np.concatenate([np.tanh(z[:, :H]), sigmoid(z[:, H:])], axis=1)


def snippet_fixed(x, prev_h, prev_c, W, U, b):
    lstm_in = _activation(x.dot(W.T) + prev_h.dot(U.T) + b)
    a, i, f, o = np.hsplit(lstm_in, 4)
    c = i * a + f * prev_c
    h = o * np.tanh(c)
    return h, c


def snippet_naive_paren(x, prev_h, prev_c, W, U, b):
    lstm_in = _activation(x.dot(W.T)) + prev_h.dot(U.T) + b
    a, i, f, o = np.hsplit(lstm_in, 4)
    c = i * a + f * prev_c
    return o * np.tanh(c), c


_sigmoid = sigmoid


def snippet_as_printed(x, prev_h, prev_c, W, U, b):
    """The Japanese notes' step, exactly as chapter 4's exercise prints it."""
    lstm_in = _activation(x.dot(W.T) + prev_h.dot(U.T) + b)
    a, i, f, o = np.hsplit(lstm_in, 4)
    a = np.tanh(a)
    input_gate = _sigmoid(i)
    forget_gate = _sigmoid(f)
    output_gate = _sigmoid(o)
    c = input_gate * a + forget_gate * c  # noqa: F821  (bug 1 of the exercise)
    h = output_gate * np.tanh(c)
    return c, h


def snippet_squashed_twice(x, prev_h, prev_c, W, U, b, swap=False):
    """Only bug 1 fixed: the blocks are still squashed twice."""
    lstm_in = _activation(x.dot(W.T) + prev_h.dot(U.T) + b)
    a, i, f, o = np.hsplit(lstm_in, 4)
    a = np.tanh(a)
    input_gate, forget_gate, output_gate = _sigmoid(i), _sigmoid(f), _sigmoid(o)
    c = input_gate * a + forget_gate * prev_c
    h = output_gate * np.tanh(c)
    return (c, h) if swap else (h, c)


def snippet_fixed_c_h(x, prev_h, prev_c, W, U, b):
    """Both bugs fixed, but the notes' return order (c, h)."""
    h, c = snippet_fixed(x, prev_h, prev_c, W, U, b)
    return c, h


def snippet_stale_c(x, prev_h, prev_c, W, U, b):
    lstm_in = _activation(x.dot(W.T) + prev_h.dot(U.T) + b)
    a, i, f, o = np.hsplit(lstm_in, 4)
    c = i * a + f * c  # noqa: F821  (the bug of the exercise)
    return o * np.tanh(c), c


def snippet_wrong_order(x, prev_h, prev_c, W, U, b):
    lstm_in = _activation(x.dot(W.T) + prev_h.dot(U.T) + b)
    i, f, o, a = np.hsplit(lstm_in, 4)
    c = i * a + f * prev_c
    return o * np.tanh(c), c


def saturation_ref(x, h, W, b):
    a = np.concatenate([x, h]) @ W + b
    s = sigmoid(a)
    return a, s, s * (1 - s)


def problems(name, fn):
    res = run_check(name, fn)
    assert not res.passed, f"{name} accepted a broken implementation"
    return " | ".join(res.problems)


# ---------------------------------------------------------------- references pass
@pytest.mark.parametrize("name, fn", [
    ("lstm_step_forward", lstm_step_forward),
    ("lstm_step_forward", make_step()),
    ("lstm_step_forward_no_forget", ref_no_forget),
    ("lstm_step_forward_no_forget", make_step(forget=False)),
    ("lstm_step_snippet", snippet_fixed),
    ("gate_saturation", saturation_ref),
])
def test_reference_passes(name, fn, capsys):
    res = run_check(name, fn)
    assert res.passed, res.problems
    assert res.n_tests >= 3
    check(name, fn)
    assert "passed" in capsys.readouterr().out


def test_two_outputs_are_enough():
    step = make_step()
    assert run_check("lstm_step_forward", lambda *a: step(*a)[:2]).passed
    assert run_check("lstm_step_forward", lambda *a: list(step(*a))).passed


# ---------------------------------------------------------------- broken code is rejected
@pytest.mark.parametrize("order", ["ifgo", "gifo", "fiog"])
def test_gate_order_is_named(order):
    msg = problems("lstm_step_forward", make_step(order=order))
    assert "next_h" in msg or "next_c" in msg
    assert f"gate order {', '.join(order)}" in msg
    assert "i, f, o, g" in msg


def test_sigmoid_candidate():
    msg = problems("lstm_step_forward", make_step(g_act=sigmoid))
    assert "next_c" in msg and "candidate g uses a sigmoid" in msg


def test_tanh_gates():
    msg = problems("lstm_step_forward", make_step(gate_act=np.tanh))
    assert "gates i, f, o use tanh" in msg


def test_o_times_c():
    msg = problems("lstm_step_forward", make_step(h_mode="c"))
    assert msg.startswith("next_h") and "h = o * c" in msg
    assert "next_c" not in msg  # next_c itself is right


def test_prev_h_in_cell_update():
    msg = problems("lstm_step_forward", make_step(c_old="prev_h"))
    assert "next_c" in msg and "prev_h where prev_c belongs" in msg


def test_prev_c_in_gates():
    msg = problems("lstm_step_forward", make_step(a_old="prev_c"))
    assert "gates read prev_c instead of prev_h" in msg


def test_swapped_return():
    msg = problems("lstm_step_forward", make_step(swap_return=True))
    assert "(next_c, next_h)" in msg


def test_missing_forget_gate_in_modern_lstm():
    msg = problems("lstm_step_forward", make_step(forget=False))
    assert "without a forget gate" in msg


def test_returns_none_or_one_array():
    assert "None" in problems("lstm_step_forward", lambda *a: None)
    assert "tuple" in problems("lstm_step_forward", lambda *a: make_step()(*a)[0])


def test_in_place_update_rejected():
    step = make_step()

    def in_place(x, prev_h, prev_c, Wx, Wh, b):
        h, c = step(x, prev_h, prev_c, Wx, Wh, b)
        prev_c[...] = c
        return h, c
    assert "prev_c in place" in problems("lstm_step_forward", in_place)


def test_no_forget_rejects_modern_lstm():
    msg = problems("lstm_step_forward_no_forget", lstm_step_forward)
    assert "next_c" in msg and "WITH a forget gate" in msg


def test_no_forget_rejects_forgetting_everything():
    msg = problems("lstm_step_forward_no_forget", make_step(forget=False, f_zero=True))
    assert "forgets everything" in msg


def test_no_forget_rejects_wrong_order():
    msg = problems("lstm_step_forward_no_forget", make_step(forget=False, order="ifgo"))
    assert "gate order i, f, g, o" in msg


def test_snippet_naive_paren_fix():
    msg = problems("lstm_step_snippet", snippet_naive_paren)
    assert msg.startswith("h:") or "c:" in msg
    assert "_activation wraps only x.dot(W.T)" in msg


def test_snippet_as_printed_is_rejected():
    msg = problems("lstm_step_snippet", snippet_as_printed)
    assert "UnboundLocalError" in msg and "PREVIOUS cell state" in msg


@pytest.mark.parametrize("swap", [False, True])
def test_snippet_squashed_twice(swap):
    msg = problems("lstm_step_snippet", lambda *a: snippet_squashed_twice(*a, swap=swap))
    assert "squashed twice" in msg and "exactly one squashing" in msg


def test_snippet_return_order():
    msg = problems("lstm_step_snippet", snippet_fixed_c_h)
    assert "returns (c, h)" in msg and "(h, c)" in msg


def test_snippet_stale_c():
    msg = problems("lstm_step_snippet", snippet_stale_c)
    assert "UnboundLocalError" in msg and "PREVIOUS cell state" in msg


def test_snippet_wrong_order():
    msg = problems("lstm_step_snippet", snippet_wrong_order)
    assert "another order" in msg and "a, i, f, o = np.hsplit" in msg


def test_saturation_bugs():
    def no_bias(x, h, W, b):
        a, s, ds = saturation_ref(x, h, W, b)
        return a - b, sigmoid(a - b), sigmoid(a - b) * (1 - sigmoid(a - b))
    assert "a (pre-activation)" in problems("gate_saturation", no_bias)
    assert "forgot the bias" in problems("gate_saturation", no_bias)

    def wrong_derivative(x, h, W, b):
        a, s, _ = saturation_ref(x, h, W, b)
        return a, s, a * (1 - a)
    msg = problems("gate_saturation", wrong_derivative)
    assert msg.startswith("ds") and "not a (1 - a)" in msg

    def tanh_not_sigmoid(x, h, W, b):
        a, _, _ = saturation_ref(x, h, W, b)
        return a, np.tanh(a), 1 - np.tanh(a) ** 2
    assert "s = sigmoid(a)" in problems("gate_saturation", tanh_not_sigmoid)


def test_check_raises_and_prints(capsys):
    with pytest.raises(CheckFailed):
        check("lstm_step_forward", make_step(order="ifgo"))
    out = capsys.readouterr().out
    assert "✘ lstm_step_forward" in out and "i, f, g, o" in out


def test_not_implemented_message():
    def stub(*args):
        raise NotImplementedError("your code here")
    assert "not implemented" in problems("lstm_step_forward", stub)


@pytest.mark.parametrize("D, H", [(2, 3), (4, 2), (3, 3)])
def test_saturation_h_before_x_named_for_any_shape(D, H):
    """Issue 14: [h, x] W instead of [x, h] W is named also when D != H."""
    def h_first(x, h, W, b):
        a = np.concatenate([h, x]) @ W + b
        return a, sigmoid(a), sigmoid(a) * (1 - sigmoid(a))
    msg = problems("gate_saturation", h_first)
    assert "a (pre-activation)" in msg and "you multiplied [h, x] with W" in msg
    assert "[x, h] (x first" in msg
