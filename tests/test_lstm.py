"""Tests for lstm_course.lstm (the reference) and lstm_course.lstm_fast (the same
mathematics organised for speed): gradients, agreement, PyTorch, validation, dtypes."""
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lstm_course import lstm as lstm_reference, lstm_fast
from lstm_course.gradcheck import eval_numerical_gradient_array, rel_error
from lstm_course.lstm import lstm_step_backward, lstm_step_forward, split_gates
from lstm_course.torch_layout import from_torch_layout, to_torch_layout

# every sequence-level test runs on both implementations of lstm_forward / lstm_backward
IMPLS = pytest.mark.parametrize("impl", [lstm_reference, lstm_fast], ids=["lstm", "lstm_fast"])

TOL = 1e-7
VARIANTS = {
    "plain": dict(forget_gate=True, peep=False),
    "no_forget_gate": dict(forget_gate=False, peep=False),
    "peepholes": dict(forget_gate=True, peep=True),
    "peepholes_no_forget_gate": dict(forget_gate=False, peep=True),
}
dims = st.integers(min_value=1, max_value=3)
FAST = settings(max_examples=12, deadline=None)


def make_params(rng, N, T, D, H, *, peep=False, scale=0.5, dtype=np.float64):
    """Random inputs and parameters; T=None gives single-step shapes."""
    xshape = (N, D) if T is None else (N, T, D)
    p = {
        "x": rng.standard_normal(xshape),
        "h0": rng.standard_normal((N, H)),
        "c0": rng.standard_normal((N, H)),
        "Wx": scale * rng.standard_normal((D, 4 * H)),
        "Wh": scale * rng.standard_normal((H, 4 * H)),
        "b": scale * rng.standard_normal(4 * H),
    }
    if peep:
        p.update(p_i=rng.standard_normal(H), p_f=rng.standard_normal(H), p_o=rng.standard_normal(H))
    return {k: v.astype(dtype) for k, v in p.items()}


def peep_of(p):
    return (p["p_i"], p["p_f"], p["p_o"]) if "p_i" in p else None


def numerical_gradient(f, x, df, h=3e-4):
    """Centred differences of sum(f() * df) w.r.t. x, Richardson-extrapolated.

    A centred difference D(h) = g + c h**2 + O(h**4) also carries float64
    rounding noise of about 1e-16 * |f| / h. (4 D(h) - D(2h)) / 3 cancels the
    h**2 term, so a fairly large h (small rounding noise) still gives about
    1e-12 absolute accuracy, enough for a relative error below 1e-7.
    """
    d_h = eval_numerical_gradient_array(f, x, df, h=h)
    d_2h = eval_numerical_gradient_array(f, x, df, h=2 * h)
    return (4 * d_h - d_2h) / 3


def assert_grad(name, analytic, numeric):
    # Relative error entry by entry (gradcheck.rel_error). Entries smaller than
    # 1e-4 (|a| + |n| < eps) are compared with an absolute tolerance of
    # 1e-7 * eps = 1e-11 instead: finite differences cannot resolve a
    # relative 1e-7 of a 1e-9 entry, whereas any bug gives errors near 1e-3+.
    err = rel_error(analytic, numeric, eps=1e-4)
    assert err < TOL, f"gradient of {name}: relative error {err:.2e}"


# ---------------------------------------------------------------------------
# numerical gradient checks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("variant", list(VARIANTS))
@FAST
@given(N=dims, D=dims, H=dims, seed=st.integers(0, 2**31 - 1))
def test_step_backward_matches_numerical_gradients(variant, N, D, H, seed):
    v = VARIANTS[variant]
    rng = np.random.default_rng(seed)
    p = make_params(rng, N, None, D, H, peep=v["peep"])
    dnext_h = rng.standard_normal((N, H))
    dnext_c = rng.standard_normal((N, H))
    kw = dict(forget_gate=v["forget_gate"], peepholes=peep_of(p))

    def fwd():
        return lstm_step_forward(p["x"], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"], **kw)

    _, _, cache = fwd()
    grads = lstm_step_backward(dnext_h, dnext_c, cache)
    assert len(grads) == (7 if v["peep"] else 6)
    names = ["x", "h0", "c0", "Wx", "Wh", "b"]
    analytic = dict(zip(names, grads[:6]))
    if v["peep"]:
        analytic.update(zip(["p_i", "p_f", "p_o"], grads[6]))
    for name, dvalue in analytic.items():
        # the loss is sum(next_h * dnext_h) + sum(next_c * dnext_c)
        num_h = numerical_gradient(lambda: fwd()[0], p[name], dnext_h)
        num_c = numerical_gradient(lambda: fwd()[1], p[name], dnext_c)
        assert dvalue.shape == p[name].shape
        assert_grad(name, dvalue, num_h + num_c)


@IMPLS
@pytest.mark.parametrize("variant", list(VARIANTS))
@FAST
@given(N=dims, T=dims, D=dims, H=dims, with_c0=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_sequence_backward_matches_numerical_gradients(impl, variant, N, T, D, H, with_c0, seed):
    v = VARIANTS[variant]
    rng = np.random.default_rng(seed)
    p = make_params(rng, N, T, D, H, peep=v["peep"])
    dh = rng.standard_normal((N, T, H))
    kw = dict(forget_gate=v["forget_gate"], peepholes=peep_of(p), c0=p["c0"] if with_c0 else None)

    def fwd():
        return impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], **kw)[0]

    _, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], **kw)
    grads = impl.lstm_backward(dh, cache, return_dc0=with_c0)
    assert len(grads) == 5 + v["peep"] + with_c0
    analytic = dict(zip(["x", "h0", "Wx", "Wh", "b"], grads[:5]))
    if v["peep"]:
        analytic.update(zip(["p_i", "p_f", "p_o"], grads[5]))
    if with_c0:
        analytic["c0"] = grads[-1]
    for name, dvalue in analytic.items():
        num = numerical_gradient(fwd, p[name], dh)
        assert dvalue.shape == p[name].shape
        assert_grad(name, dvalue, num)


@IMPLS
def test_dc_T_is_the_gradient_of_the_final_cell_state(impl):
    rng = np.random.default_rng(1)
    N, T, D, H = 2, 3, 2, 3
    p = make_params(rng, N, T, D, H)
    dh = rng.standard_normal((N, T, H))
    dc_T = rng.standard_normal((N, H))

    def run():
        h, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=p["c0"])
        return h, impl.lstm_final_state(cache)[1]

    _, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=p["c0"])
    grads = impl.lstm_backward(dh, cache, dc_T=dc_T, return_dc0=True)
    for name, dvalue in zip(["x", "h0", "Wx", "Wh", "b", "c0"], grads):
        num = numerical_gradient(lambda: run()[0], p[name], dh)
        num += numerical_gradient(lambda: run()[1], p[name], dc_T)
        assert_grad(name, dvalue, num)


@IMPLS
def test_chunked_sequence_with_carried_state_equals_whole_sequence(impl):
    """Truncated-BPTT plumbing: final state -> next h0/c0, dc0/dh0 -> previous chunk."""
    rng = np.random.default_rng(2)
    N, T, D, H = 2, 6, 3, 4
    p = make_params(rng, N, T, D, H)
    dh = rng.standard_normal((N, T, H))
    h, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    full = impl.lstm_backward(dh, cache)

    h1, cache1 = impl.lstm_forward(p["x"][:, :4], p["h0"], p["Wx"], p["Wh"], p["b"])
    h_T, c_T = impl.lstm_final_state(cache1)
    np.testing.assert_array_equal(h_T, h1[:, -1])
    h2, cache2 = impl.lstm_forward(p["x"][:, 4:], h_T, p["Wx"], p["Wh"], p["b"], c0=c_T)
    np.testing.assert_allclose(np.concatenate([h1, h2], axis=1), h, rtol=1e-13, atol=1e-14)
    dx2, dh0_2, dWx2, dWh2, db2, dc0_2 = impl.lstm_backward(dh[:, 4:], cache2, return_dc0=True)
    dh1 = dh[:, :4].copy()
    dh1[:, -1] += dh0_2
    dx1, dh0, dWx1, dWh1, db1 = impl.lstm_backward(dh1, cache1, dc_T=dc0_2)
    for got, want in [(np.concatenate([dx1, dx2], axis=1), full[0]), (dh0, full[1]),
                      (dWx1 + dWx2, full[2]), (dWh1 + dWh2, full[3]), (db1 + db2, full[4])]:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------
# the sequence functions equal a loop of step functions
# ---------------------------------------------------------------------------
@IMPLS
@pytest.mark.parametrize("variant", list(VARIANTS))
@FAST
@given(N=dims, T=st.integers(1, 6), D=dims, H=dims, with_c0=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_sequence_equals_loop_of_steps(impl, variant, N, T, D, H, with_c0, seed):
    v = VARIANTS[variant]
    rng = np.random.default_rng(seed)
    p = make_params(rng, N, T, D, H, peep=v["peep"], scale=1.0)
    if not with_c0:
        p["c0"] = np.zeros_like(p["c0"])
    dh = rng.standard_normal((N, T, H))
    peep = peep_of(p)
    kw = dict(forget_gate=v["forget_gate"], peepholes=peep)

    h, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"],
                            c0=p["c0"] if with_c0 else None, **kw)
    grads = impl.lstm_backward(dh, cache, return_dc0=True)

    prev_h, prev_c, caches, hs = p["h0"], p["c0"], [], []
    for t in range(T):
        prev_h, prev_c, c = lstm_step_forward(p["x"][:, t], prev_h, prev_c, p["Wx"], p["Wh"], p["b"], **kw)
        hs.append(prev_h)
        caches.append(c)
    close = dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(h, np.stack(hs, axis=1), **close)
    np.testing.assert_allclose(impl.lstm_final_state(cache)[1], prev_c, **close)

    dx = np.zeros_like(p["x"])
    dprev_h, dprev_c = np.zeros_like(p["h0"]), np.zeros_like(p["c0"])
    sums = None
    for t in reversed(range(T)):
        out = lstm_step_backward(dh[:, t] + dprev_h, dprev_c, caches[t])
        dx[:, t], dprev_h, dprev_c = out[0], out[1], out[2]
        params = list(out[3:6]) + (list(out[6]) if peep is not None else [])
        sums = params if sums is None else [s + g for s, g in zip(sums, params)]
    np.testing.assert_allclose(grads[0], dx, **close)
    np.testing.assert_allclose(grads[1], dprev_h, **close)
    np.testing.assert_allclose(grads[-1], dprev_c, **close)
    seq_params = list(grads[2:5]) + (list(grads[5]) if peep is not None else [])
    for got, want in zip(seq_params, sums):
        np.testing.assert_allclose(got, want, **close)


@IMPLS
def test_lstm_states_match_steps(impl):
    rng = np.random.default_rng(3)
    N, T, D, H = 2, 4, 3, 2
    p = make_params(rng, N, T, D, H)
    _, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=p["c0"])
    states = impl.lstm_states(cache)
    prev_h, prev_c = p["h0"], p["c0"]
    for t in range(T):
        prev_h, prev_c, c = lstm_step_forward(p["x"][:, t], prev_h, prev_c, p["Wx"], p["Wh"], p["b"])
        for k in "ifog":
            np.testing.assert_allclose(states[k][:, t], c[k], rtol=1e-12)
        np.testing.assert_allclose(states["c"][:, t], prev_c, rtol=1e-12)
        np.testing.assert_allclose(states["h"][:, t], prev_h, rtol=1e-12)


# ---------------------------------------------------------------------------
# the 1997 LSTM (no forget gate)
# ---------------------------------------------------------------------------
@IMPLS
@pytest.mark.parametrize("peep", [False, True])
def test_no_forget_gate_adds_to_the_cell_and_has_zero_f_gradients(impl, peep):
    rng = np.random.default_rng(4)
    N, T, D, H = 3, 5, 2, 4
    p = make_params(rng, N, T, D, H, peep=peep)
    peepholes = peep_of(p)
    f_cols = slice(H, 2 * H)

    # step: c_t = c_{t-1} + i * g, and the f slice gets exactly zero gradient
    x0 = p["x"][:, 0]
    _, next_c, cache = lstm_step_forward(x0, p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"],
                                         forget_gate=False, peepholes=peepholes)
    np.testing.assert_allclose(next_c, p["c0"] + cache["i"] * cache["g"], rtol=1e-14)
    out = lstm_step_backward(rng.standard_normal((N, H)), rng.standard_normal((N, H)), cache)
    dWx, dWh, db = out[3:6]
    assert np.all(dWx[:, f_cols] == 0) and np.all(dWh[:, f_cols] == 0) and np.all(db[f_cols] == 0)
    assert np.abs(dWx).sum() > 0  # the other gates do learn
    if peep:
        assert np.all(out[6][1] == 0)  # dp_f

    # changing the f weights changes nothing
    Wx2, Wh2, b2 = p["Wx"].copy(), p["Wh"].copy(), p["b"].copy()
    for w in (Wx2, Wh2, b2):
        w[..., f_cols] = 100 * rng.standard_normal(w[..., f_cols].shape)
    h, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=p["c0"],
                            forget_gate=False, peepholes=peepholes)
    h2, _ = impl.lstm_forward(p["x"], p["h0"], Wx2, Wh2, b2, c0=p["c0"],
                         forget_gate=False, peepholes=peepholes)
    np.testing.assert_array_equal(h, h2)

    # sequence: c_t - c_{t-1} = i_t * g_t at every step, and zero f gradients
    states = impl.lstm_states(cache)
    c_prev = np.concatenate([p["c0"][:, None], states["c"][:, :-1]], axis=1)
    np.testing.assert_allclose(states["c"] - c_prev, states["i"] * states["g"], rtol=1e-12, atol=1e-14)
    assert np.all(states["f"] == 1)
    out = impl.lstm_backward(rng.standard_normal((N, T, H)), cache)
    dWx, dWh, db = out[2:5]
    assert np.all(dWx[:, f_cols] == 0) and np.all(dWh[:, f_cols] == 0) and np.all(db[f_cols] == 0)
    if peep:
        assert np.all(out[5][1] == 0)


@IMPLS
def test_no_forget_gate_cell_state_grows_without_bound_on_a_positive_stream(impl):
    """Chapter 4's experiment in miniature: nothing ever leaves the cell."""
    N, T, D, H = 1, 300, 1, 1
    x = np.ones((N, T, D))
    Wx = np.zeros((D, 4 * H))
    Wh = np.zeros((H, 4 * H))
    b = np.array([5.0, -5.0, 0.0, 5.0])  # i ~ 1, f ~ 0.007 when used, g ~ 1
    _, cache = impl.lstm_forward(x, np.zeros((N, H)), Wx, Wh, b, forget_gate=False)
    c = impl.lstm_states(cache)["c"][0, :, 0]
    assert np.all(np.diff(c) > 0.98) and c[-1] > 290
    _, cache = impl.lstm_forward(x, np.zeros((N, H)), Wx, Wh, b, forget_gate=True)
    assert impl.lstm_states(cache)["c"].max() < 1.01


# ---------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip(
        "torch", reason="PyTorch is optional; the comparison with nn.LSTM needs it")


@IMPLS
@pytest.mark.parametrize("with_c0", [False, True])
@pytest.mark.parametrize("N,T,D,H", [(2, 5, 3, 4), (1, 1, 1, 1), (3, 7, 5, 2)])
def test_matches_torch_nn_lstm(impl, torch, with_c0, N, T, D, H):
    rng = np.random.default_rng(N * 100 + T * 10 + D + H + with_c0)
    p = make_params(rng, N, T, D, H, scale=0.7)
    dh = rng.standard_normal((N, T, H))

    model = torch.nn.LSTM(D, H, batch_first=True).double()
    # torch splits the bias in two; give it a nonzero bias_hh to test the sum
    weight_ih, weight_hh, bias_ih, _ = to_torch_layout(p["Wx"], p["Wh"], p["b"])
    bias_hh = rng.standard_normal(4 * H)
    bias_ih = bias_ih - bias_hh
    with torch.no_grad():
        for name, value in [("weight_ih_l0", weight_ih), ("weight_hh_l0", weight_hh),
                            ("bias_ih_l0", bias_ih), ("bias_hh_l0", bias_hh)]:
            getattr(model, name).copy_(torch.from_numpy(value))
    xt = torch.from_numpy(p["x"]).requires_grad_()
    h0t = torch.from_numpy(p["h0"][None]).requires_grad_()
    c0t = torch.from_numpy(p["c0"][None] if with_c0 else np.zeros((1, N, H))).requires_grad_()
    out, _ = model(xt, (h0t, c0t))
    (out * torch.from_numpy(dh)).sum().backward()

    h, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"],
                            c0=p["c0"] if with_c0 else None)
    dx, dh0, dWx, dWh, db, dc0 = impl.lstm_backward(dh, cache, return_dc0=True)
    tWx, tWh, tb = from_torch_layout(model.weight_ih_l0.grad.numpy(), model.weight_hh_l0.grad.numpy(),
                                     model.bias_ih_l0.grad.numpy())
    # bias_hh gets the same gradient as bias_ih (they are added)
    np.testing.assert_allclose(model.bias_hh_l0.grad.numpy(), model.bias_ih_l0.grad.numpy(), atol=1e-12)
    pairs = [("h", h, out.detach().numpy()), ("dx", dx, xt.grad.numpy()),
             ("dh0", dh0, h0t.grad.numpy()[0]), ("dc0", dc0, c0t.grad.numpy()[0]),
             ("dWx", dWx, tWx), ("dWh", dWh, tWh), ("db", db, tb)]
    for name, ours, theirs in pairs:
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10, err_msg=name)


def test_torch_layout_round_trip_and_gate_order():
    rng = np.random.default_rng(5)
    D, H = 3, 2
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    w_ih, w_hh, b_ih, b_hh = to_torch_layout(Wx, Wh, b)
    assert w_ih.shape == (4 * H, D) and w_hh.shape == (4 * H, H) and b_hh.shape == (4 * H,)
    # torch order i, f, g, o: its 3rd block is our g (4th), its 4th our o (3rd)
    np.testing.assert_array_equal(w_ih[2 * H:3 * H], Wx[:, 3 * H:].T)
    np.testing.assert_array_equal(w_ih[3 * H:], Wx[:, 2 * H:3 * H].T)
    np.testing.assert_array_equal(b_ih[:2 * H], b[:2 * H])
    assert np.all(b_hh == 0)
    for got, want in zip(from_torch_layout(w_ih, w_hh, b_ih, b_hh), (Wx, Wh, b)):
        np.testing.assert_array_equal(got, want)


def test_split_gates_order():
    a = np.arange(8.0)[None]  # H = 2
    a_i, a_f, a_o, a_g = split_gates(a)
    np.testing.assert_array_equal(np.concatenate([a_i, a_f, a_o, a_g], axis=1), a)
    np.testing.assert_array_equal(a_o, [[4.0, 5.0]])
    with pytest.raises(ValueError, match=r"a has shape \(1, 7\).*4H"):
        split_gates(np.zeros((1, 7)))


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
N_, T_, D_, H_ = 2, 3, 4, 5


def good_seq():
    rng = np.random.default_rng(6)
    return make_params(rng, N_, T_, D_, H_, peep=True)


def call_step_forward(p, **over):
    a = {"x": p["x"][:, 0], "prev_h": p["h0"], "prev_c": p["c0"], "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}
    peep = over.pop("peepholes", None)
    a.update(over)
    return lstm_step_forward(a["x"], a["prev_h"], a["prev_c"], a["Wx"], a["Wh"], a["b"], peepholes=peep)


def call_forward(impl, p, **over):
    a = {"x": p["x"], "h0": p["h0"], "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"]}
    kw = {k: over.pop(k) for k in ("c0", "peepholes") if k in over}
    a.update(over)
    return impl.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"], **kw)


def assert_shape_error(call, name, got, expected):
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert re.search(rf"\b{re.escape(name)}\b", msg), msg
    assert str(got) in msg, msg
    assert str(expected) in msg, msg


H4 = 4 * H_
SEQ_CASES = [
    ("x", np.zeros((N_, D_)), "(N, T, D)"),
    ("h0", np.zeros((N_, H_ + 1)), (N_, H_)),
    ("h0", np.zeros((N_ + 1, H_)), (N_, H_)),
    ("c0", np.zeros((N_, H_ - 1)), (N_, H_)),
    ("Wx", np.zeros((D_ + 1, H4)), (D_, H4)),
    ("Wx", np.zeros((D_, H4 - 2)), (D_, H4)),
    ("Wh", np.zeros((H_, 3 * H_)), (H_, H4)),
    ("Wh", np.zeros(H4), "(H, 4H)"),
    ("b", np.zeros(H4 + 1), (H4,)),
    ("b", np.zeros((1, H4)), (H4,)),
]


@IMPLS
@pytest.mark.parametrize("name,bad,expected", SEQ_CASES, ids=[f"{c[0]}{c[1].shape}" for c in SEQ_CASES])
def test_lstm_forward_rejects_wrong_shapes(impl, name, bad, expected):
    p = good_seq()
    assert_shape_error(lambda: call_forward(impl, p, **{name: bad}), name, bad.shape, expected)


STEP_CASES = [
    ("x", np.zeros((N_, 1, D_)), "(N, D)"),
    ("x", np.zeros((N_, D_ + 1)), (D_ + 1, H4)),  # D is read from x, so Wx mismatches
    ("prev_h", np.zeros((N_, H_ + 2)), (N_, H_)),
    ("prev_c", np.zeros((N_ + 1, H_)), (N_, H_)),
    ("Wx", np.zeros((D_, H4 + 4)), (D_, H4)),
    ("Wh", np.zeros((H_ + 1, H4)), (H_ + 1, 4 * (H_ + 1))),
    ("b", np.zeros(H_), (H4,)),
]


@pytest.mark.parametrize("name,bad,expected", STEP_CASES, ids=[f"{c[0]}{c[1].shape}" for c in STEP_CASES])
def test_lstm_step_forward_rejects_wrong_shapes(name, bad, expected):
    p = good_seq()
    blamed = "Wx" if (name == "x" and bad.ndim == 2) else name
    got = p["Wx"].shape if blamed != name else bad.shape
    assert_shape_error(lambda: call_step_forward(p, **{name: bad}), blamed, got, expected)


def test_wx_message_matches_the_design_example():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=re.escape("Wx has shape (3, 8) but expected (D, 4H) = (3, 12)")):
        lstm_step_forward(x, np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((3, 8)), np.zeros((3, 12)), np.zeros(12))


@IMPLS
@pytest.mark.parametrize("which", [0, 1, 2])
def test_peepholes_are_validated(impl, which):
    p = good_seq()
    peep = [p["p_i"], p["p_f"], p["p_o"]]
    peep[which] = np.zeros(H_ + 1)
    name = ["p_i", "p_f", "p_o"][which]
    assert_shape_error(lambda: call_forward(impl, p, peepholes=tuple(peep)), name, (H_ + 1,), (H_,))
    assert_shape_error(lambda: call_step_forward(p, peepholes=tuple(peep)), name, (H_ + 1,), (H_,))
    with pytest.raises(ValueError, match="peepholes"):
        call_forward(impl, p, peepholes=(p["p_i"], p["p_f"]))
    with pytest.raises(ValueError, match="peepholes"):
        call_forward(impl, p, peepholes=3.0)


@IMPLS
def test_backward_functions_validate_upstream_gradients(impl):
    p = good_seq()
    _, cache = call_forward(impl, p)
    assert_shape_error(lambda: impl.lstm_backward(np.zeros((N_, T_ + 1, H_)), cache), "dh", (N_, T_ + 1, H_), (N_, T_, H_))
    assert_shape_error(lambda: impl.lstm_backward(np.zeros((N_, T_, H_)), cache, dc_T=np.zeros((N_, 1))),
                       "dc_T", (N_, 1), (N_, H_))
    _, _, scache = call_step_forward(p)
    ok = np.zeros((N_, H_))
    assert_shape_error(lambda: lstm_step_backward(np.zeros((N_, H_ + 1)), ok, scache), "dnext_h", (N_, H_ + 1), (N_, H_))
    assert_shape_error(lambda: lstm_step_backward(ok, np.zeros((1, H_)), scache), "dnext_c", (1, H_), (N_, H_))
    with pytest.raises(ValueError, match="dh"):
        impl.lstm_backward(np.zeros((N_, T_, H_), dtype=int), cache)


def test_layout_converters_validate():
    assert_shape_error(lambda: to_torch_layout(np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(7)), "b", (7,), (8,))
    assert_shape_error(lambda: from_torch_layout(np.zeros((8, 3)), np.zeros((8, 3))), "weight_hh", (8, 3), (12, 3))
    assert_shape_error(lambda: from_torch_layout(np.zeros((9, 3)), np.zeros((8, 2))), "weight_ih", (9, 3), (8, 3))
    assert_shape_error(lambda: from_torch_layout(np.zeros((8, 3)), np.zeros((8, 2)), np.zeros(4)), "bias_ih", (4,), (8,))


@IMPLS
@pytest.mark.parametrize("name", ["x", "h0", "c0", "Wx", "Wh", "b"])
def test_integer_arrays_are_rejected(impl, name):
    p = good_seq()
    with pytest.raises(ValueError, match=rf"{name} must be a floating-point array.*int"):
        call_forward(impl, p, **{name: p[name].astype(np.int64)})
    step_name = {"h0": "prev_h", "c0": "prev_c"}.get(name, name)
    value = p[name][:, 0] if name == "x" else p[name]
    with pytest.raises(ValueError, match=rf"{step_name} must be a floating-point array"):
        call_step_forward(p, **{step_name: value.astype(np.int32)})


# ---------------------------------------------------------------------------
# dtypes and numerical stability
# ---------------------------------------------------------------------------
@IMPLS
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("peep", [False, True])
def test_dtype_is_preserved(impl, dtype, peep):
    rng = np.random.default_rng(7)
    N, T, D, H = 2, 3, 4, 5
    p = make_params(rng, N, T, D, H, peep=peep, dtype=dtype)
    peepholes = peep_of(p)
    h, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=p["c0"], peepholes=peepholes)
    grads = impl.lstm_backward(np.ones((N, T, H), dtype=dtype), cache, return_dc0=True)
    next_h, next_c, scache = lstm_step_forward(p["x"][:, 0], p["h0"], p["c0"], p["Wx"], p["Wh"], p["b"],
                                               peepholes=peepholes)
    sgrads = lstm_step_backward(np.ones((N, H), dtype), np.ones((N, H), dtype), scache)
    outs = [h, next_h, next_c, *impl.lstm_final_state(cache), *impl.lstm_states(cache).values()]
    for g in list(grads) + list(sgrads):
        outs.extend(g if isinstance(g, tuple) else [g])
    assert all(o.dtype == dtype for o in outs), [o.dtype for o in outs]
    # float32 results agree with the float64 computation to float32 precision
    p64 = {k: v.astype(np.float64) for k, v in p.items()}
    h64, _ = impl.lstm_forward(p64["x"], p64["h0"], p64["Wx"], p64["Wh"], p64["b"], c0=p64["c0"],
                          peepholes=peep_of(p64))
    np.testing.assert_allclose(h, h64, rtol=1e-5, atol=1e-6)


@IMPLS
def test_saturated_gates_give_no_warnings_and_finite_values(impl):
    rng = np.random.default_rng(8)
    N, T, D, H = 2, 4, 3, 3
    p = make_params(rng, N, T, D, H, peep=True, scale=1000.0)
    p["x"] *= 100
    for dtype in (np.float32, np.float64):
        q = {k: v.astype(dtype) for k, v in p.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for kw in ({}, {"peepholes": peep_of(q)}, {"forget_gate": False}):
                h, cache = impl.lstm_forward(q["x"], q["h0"], q["Wx"], q["Wh"], q["b"], c0=q["c0"], **kw)
                grads = impl.lstm_backward(np.ones_like(h), cache)
                nh, nc, sc = lstm_step_forward(q["x"][:, 0], q["h0"], q["c0"], q["Wx"], q["Wh"], q["b"], **kw)
                sgrads = lstm_step_backward(np.ones_like(nh), np.ones_like(nc), sc)
                for arr in [h, nh, nc, *grads[:5], *sgrads[:6]]:
                    assert np.all(np.isfinite(arr))
                assert np.all(np.abs(h) <= 1)
        # saturated gates are exactly 0 or 1 somewhere (that is what saturation means)
        s = impl.lstm_states(cache)
        assert np.any(s["i"] == 1.0) or np.any(s["i"] == 0.0)


# ---------------------------------------------------------------------------
# lstm_fast: the same numbers as the reference, and its Workspace
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("dtype, close", [(np.float64, dict(rtol=1e-12, atol=1e-13)),
                                          (np.float32, dict(rtol=2e-5, atol=2e-6))])
@FAST
@given(N=dims, T=st.integers(1, 8), D=dims, H=dims, with_c0=st.booleans(), dc_T=st.booleans(),
       seed=st.integers(0, 2**31 - 1))
def test_fast_equals_reference(variant, dtype, close, N, T, D, H, with_c0, dc_T, seed):
    """lstm_fast reorders the arithmetic (one tanh for all gates, blocked local
    derivatives, one product per weight gradient): equal up to rounding."""
    v = VARIANTS[variant]
    rng = np.random.default_rng(seed)
    p = make_params(rng, N, T, D, H, peep=v["peep"], scale=1.0, dtype=dtype)
    dh = rng.standard_normal((N, T, H)).astype(dtype)
    kw = dict(c0=p["c0"] if with_c0 else None, forget_gate=v["forget_gate"], peepholes=peep_of(p))
    bkw = dict(dc_T=p["h0"][::-1].copy() if dc_T else None, return_dc0=True)
    results = []
    for impl in (lstm_reference, lstm_fast):
        h, cache = impl.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], **kw)
        grads = impl.lstm_backward(dh, cache, **bkw)
        flat = [h, *impl.lstm_final_state(cache), *impl.lstm_states(cache).values()]
        for g in grads:
            flat.extend(g if isinstance(g, tuple) else [g])
        results.append(flat)
    assert len(results[0]) == len(results[1])
    for k, (ref, fast) in enumerate(zip(*results)):
        assert fast.dtype == ref.dtype == dtype
        np.testing.assert_allclose(fast, ref, err_msg=f"output {k}", **close)


def _problem(seed, N=3, T=6, D=4, H=5, dtype=np.float64):
    p = make_params(np.random.default_rng(seed), N, T, D, H, dtype=dtype)
    return p, np.random.default_rng(seed + 1).standard_normal((N, T, H)).astype(dtype)


def test_a_workspace_gives_the_same_numbers_and_reuses_its_memory():
    ws = lstm_fast.Workspace()
    runs = []
    for seed in (1, 2, 1):
        p, dh = _problem(seed)
        h, cache = lstm_fast.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], workspace=ws)
        with_ws = (h, *lstm_fast.lstm_backward(dh, cache))
        h0, cache0 = lstm_fast.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
        without = (h0, *lstm_fast.lstm_backward(dh, cache0))
        for a, b in zip(with_ws, without):
            np.testing.assert_array_equal(a, b)
        runs.append((cache["gates"], with_ws))
    assert runs[0][0] is runs[1][0] is runs[2][0]   # the same memory, call after call
    assert ws.nbytes > 0
    # what was returned is never workspace memory: the first results survived two more calls
    p, dh = _problem(1)
    h, cache = lstm_fast.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
    for a, b in zip(runs[0][1], (h, *lstm_fast.lstm_backward(dh, cache))):
        np.testing.assert_array_equal(a, b)
    ws.clear()
    assert ws.nbytes == 0


def test_an_overwritten_cache_is_refused_with_a_clear_error():
    ws = lstm_fast.Workspace()
    p, dh = _problem(3)
    _, old = lstm_fast.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], workspace=ws)
    _, new = lstm_fast.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], workspace=ws)
    with pytest.raises(ValueError, match="cache is no longer valid.*same workspace"):
        lstm_fast.lstm_backward(dh, old)
    lstm_fast.lstm_backward(dh, new)          # the newest one is fine
    # two workspaces do not interfere
    ws2 = lstm_fast.Workspace()
    _, other = lstm_fast.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], workspace=ws2)
    lstm_fast.lstm_backward(dh, new)
    lstm_fast.lstm_backward(dh, other)


@pytest.mark.parametrize("use_workspace", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, T", [(3, 6), (1, 6), (3, 1)])   # N or T = 1: transposes are contiguous
def test_outputs_are_not_overwritten_by_later_calls(use_workspace, dtype, N, T):
    """Nothing lstm_fast returns may be a view of a cache, of scratch or of workspace memory."""
    ws = lstm_fast.Workspace() if use_workspace else None
    p, dh = _problem(9, N=N, T=T, dtype=dtype)
    h, cache = lstm_fast.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=p["c0"], workspace=ws)
    grads = lstm_fast.lstm_backward(dh, cache, return_dc0=True)
    final, states = lstm_fast.lstm_final_state(cache), lstm_fast.lstm_states(cache)
    saved = [a.copy() for a in (h, *grads, *final, *states.values())]
    q, _ = _problem(10, N=N, T=T, dtype=dtype)
    _, cache2 = lstm_fast.lstm_forward(q["x"], q["h0"], q["Wx"], q["Wh"], q["b"], workspace=ws)
    lstm_fast.lstm_backward(-dh, cache2, return_dc0=True)
    for before, now in zip(saved, (h, *grads, *final, *states.values())):
        np.testing.assert_array_equal(before, now)
    memory = [a for a in cache2.values() if isinstance(a, np.ndarray)]
    if ws is not None:
        memory += list(ws._arrays.values())
    for a in (h, *grads, *final, *states.values()):
        assert not any(np.shares_memory(a, m) for m in memory)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_backward_is_the_same_for_any_time_block_size(variant, monkeypatch):
    """lstm_fast.lstm_backward computes the local derivatives in blocks of K time
    steps (K from _BLOCK_BYTES); small problems use one block. Force several
    blocks, including a shorter last one, and compare bit for bit."""
    v = VARIANTS[variant]
    rng = np.random.default_rng(11)
    N, T, D, H = 2, 7, 3, 4
    p = make_params(rng, N, T, D, H, peep=v["peep"])
    dh = rng.standard_normal((N, T, H))
    _, cache = lstm_fast.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], c0=p["c0"],
                                      forget_gate=v["forget_gate"], peepholes=peep_of(p))
    one_block = lstm_fast.lstm_backward(dh, cache, return_dc0=True)
    step_bytes = N * 4 * H * 8
    for K in (1, 2, 3):
        monkeypatch.setattr(lstm_fast, "_BLOCK_BYTES", K * step_bytes)
        blocked = lstm_fast.lstm_backward(dh, cache, return_dc0=True)
        for a, b in zip(one_block, blocked):
            for x, y in zip(a if isinstance(a, tuple) else [a], b if isinstance(b, tuple) else [b]):
                np.testing.assert_array_equal(x, y)


def test_the_reference_is_short_and_the_fast_path_has_no_refcount_tricks():
    """The issue's structural promises: lstm.py is a page a student can read."""
    from pathlib import Path
    src = Path(lstm_reference.__file__).parent
    assert len(Path(lstm_reference.__file__).read_text().splitlines()) <= 350
    for path in src.rglob("*.py"):
        text = path.read_text()
        assert "getrefcount" not in text, path
        assert len(text.splitlines()) <= 500, f"{path} has more than 500 lines"
