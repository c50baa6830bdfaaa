"""Widgets: gradient_flow numbers, live widgets driven from Python, static forms."""
import gc
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402

from lstm_course.lstm import (  # noqa: E402
    lstm_backward,
    lstm_final_state,
    lstm_forward,
    lstm_step_forward,
)  # noqa: E402
from lstm_course.rnn import rnn_backward, rnn_forward  # noqa: E402
from lstm_course.widgets import (  # noqa: E402
    BackwardStepper,
    GateStepper,
    GradientFlowExplorer,
    gradient_flow,
    gradient_flow_setup,
    jshtml,
    random_orthogonal,
)

UUID_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
EXTERNAL = re.compile(r"<(link|script)\b[^>]*(href|src)\s*=\s*[\"']?\s*(https?:)?//", re.I)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_offline_html(html):
    assert "maxcdn" not in html
    assert "font-awesome" not in html
    assert EXTERNAL.search(html) is None
    assert "http://" not in html and "https://" not in html
    assert UUID_HEX.search(html) is None, "a random uuid4 id was left in the HTML"


# ----------------------------------------------------------------------------
# gradient_flow
# ----------------------------------------------------------------------------
def test_random_orthogonal_is_orthogonal():
    q = random_orthogonal(7, np.random.default_rng(3))
    np.testing.assert_allclose(q.T @ q, np.eye(7), atol=1e-12)


@pytest.mark.parametrize("scale", [0.7, 1.0, 1.3])
def test_rnn_linear_regime_matches_theory(scale):
    # No input and h_0 = 0: h_t = 0, tanh'(0) = 1 and Wh = scale * orthogonal,
    # so each step back multiplies the norm by exactly `scale`.
    T = 30
    n = gradient_flow("rnn", T=T, weight_scale=scale, input_scale=0.0)
    np.testing.assert_allclose(n, scale ** (T - 1.0 - np.arange(T)), rtol=1e-10)
    slope = np.polyfit(np.arange(T), np.log(n), 1)[0]
    assert slope == pytest.approx(-np.log(scale), abs=1e-9)


def test_rnn_norms_never_beat_the_bound():
    # tanh' <= 1 and ||Wh|| = weight_scale: one step back multiplies by <= weight_scale.
    for scale in (0.5, 1.0, 1.5):
        n = gradient_flow("rnn", T=60, weight_scale=scale, input_scale=1.0)
        assert np.all(n[:-1] <= scale * n[1:] * (1 + 1e-12))


def test_rnn_small_scale_vanishes_large_scale_does_not():
    n05 = gradient_flow("rnn", T=50, weight_scale=0.5)
    n15 = gradient_flow("rnn", T=50, weight_scale=1.5)
    assert n05.shape == n15.shape == (50,)
    assert n05[-1] == pytest.approx(1.0) and n15[-1] == pytest.approx(1.0)
    assert n05[0] < 1e-10 * n05[-1]
    assert n15[0] > 1e6 * n05[0]
    # the decay per step (log slope) is much steeper for 0.5
    s05 = np.polyfit(np.arange(50), np.log(n05), 1)[0]
    s15 = np.polyfit(np.arange(50), np.log(n15), 1)[0]
    assert s05 > 0.5 and s15 < s05 - 0.4  # norms grow towards the loss at t = T-1


def test_lstm_forget_bias_keeps_the_gradient():
    rnn = gradient_flow("rnn", T=50, weight_scale=1.0)
    lstm5 = gradient_flow("lstm", T=50, weight_scale=1.0, forget_bias=5.0)
    lstm_neg = gradient_flow("lstm", T=50, weight_scale=1.0, forget_bias=-3.0)
    assert lstm5[0] > 30 * rnn[0]
    assert lstm5[0] > 1e10 * lstm_neg[0]


def test_forget_bias_is_ignored_by_the_rnn():
    np.testing.assert_array_equal(gradient_flow("rnn", forget_bias=-3),
                                  gradient_flow("rnn", forget_bias=5))


def test_gradient_flow_is_deterministic():
    for model in ("rnn", "lstm"):
        a = gradient_flow(model, T=20, seed=4)
        np.testing.assert_array_equal(a, gradient_flow(model, T=20, seed=4))
        assert not np.allclose(a, gradient_flow(model, T=20, seed=5))


@pytest.mark.parametrize("t", [0, 7])
def test_rnn_norms_agree_with_rnn_backward(t):
    # ||dL/dh_t||: restart the sequence at h_t and read dh0 from rnn_backward.
    T = 12
    s = gradient_flow_setup("rnn", T=T, weight_scale=1.2, input_scale=1.0, seed=2)
    h, _ = rnn_forward(s["x"], s["h0"], s["Wx"], s["Wh"], s["b"])
    _, cache = rnn_forward(s["x"][:, t + 1:], h[:, t], s["Wx"], s["Wh"], s["b"])
    dh = np.zeros((1, T - t - 1, len(s["u"])))
    dh[:, -1] = s["u"]
    dh_t = rnn_backward(dh, cache)[1]
    n = gradient_flow("rnn", T=T, weight_scale=1.2, input_scale=1.0, seed=2)
    assert n[t] == pytest.approx(np.linalg.norm(dh_t), rel=1e-12)


def test_lstm_norms_agree_with_lstm_backward():
    T, t = 15, 3
    s = gradient_flow_setup("lstm", T=T, forget_bias=2.0, input_scale=1.0, seed=1)
    _, cache = lstm_forward(s["x"][:, :t + 1], s["h0"], s["Wx"], s["Wh"], s["b"])
    h_t, c_t = lstm_final_state(cache)
    _, cache2 = lstm_forward(s["x"][:, t + 1:], h_t, s["Wx"], s["Wh"], s["b"], c0=c_t)
    dh = np.zeros((1, T - t - 1, len(s["u"])))
    dh[:, -1] = s["u"]
    dh_t = lstm_backward(dh, cache2)[1]
    n = gradient_flow("lstm", T=T, forget_bias=2.0, input_scale=1.0, seed=1)
    assert n[t] == pytest.approx(np.linalg.norm(dh_t), rel=1e-8)
    nh, nc = gradient_flow("lstm", T=T, forget_bias=2.0, input_scale=1.0, seed=1,
                           return_cell=True)
    np.testing.assert_array_equal(nh, n)
    assert nc.shape == (T,) and np.all(nc > 0)


def test_gradient_flow_rejects_bad_arguments():
    with pytest.raises(ValueError, match="model"):
        gradient_flow("gru")
    with pytest.raises(ValueError, match="T"):
        gradient_flow("rnn", T=0)


# ----------------------------------------------------------------------------
# GradientFlowExplorer
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def explorer():
    return GradientFlowExplorer(T=40, weight_scale=1.0)


def test_explorer_has_the_promised_widgets(explorer):
    import ipywidgets as W

    s = explorer.sliders
    assert set(s) == {"T", "weight_scale", "forget_bias", "model"}
    assert (s["T"].min, s["T"].max) == (5, 200)
    assert (s["weight_scale"].min, s["weight_scale"].max) == (0.5, 1.5)
    assert (s["forget_bias"].min, s["forget_bias"].max) == (-3.0, 5.0)
    assert list(s["model"].options) == ["rnn", "lstm"]
    assert isinstance(explorer.ui, W.Box)
    assert callable(explorer._ipython_display_)


def test_explorer_follows_its_sliders(explorer):
    s = explorer.sliders
    s["model"].value, s["T"].value, s["weight_scale"].value = "rnn", 40, 1.0
    before, img_before = explorer.norms.copy(), explorer.image.value
    np.testing.assert_allclose(explorer.line.get_ydata(), before)

    s["weight_scale"].value = 0.6
    assert not np.allclose(explorer.norms, before)
    np.testing.assert_allclose(explorer.norms, gradient_flow("rnn", T=40, weight_scale=0.6))
    np.testing.assert_allclose(explorer.line.get_ydata(), explorer.norms)
    assert explorer.image.value != img_before
    assert "0.60" in explorer.ax.get_title()

    rnn_norms = explorer.norms.copy()
    s["model"].value = "lstm"
    assert not np.allclose(explorer.norms, rnn_norms)
    np.testing.assert_allclose(explorer.line.get_ydata(), explorer.norms)
    assert not s["forget_bias"].disabled

    lstm_norms = explorer.norms.copy()
    s["forget_bias"].value = 4.0
    assert not np.allclose(explorer.norms, lstm_norms)

    s["T"].value = 17
    assert explorer.norms.shape == (17,)
    assert len(explorer.line.get_xdata()) == 17


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_explorer_animation_and_static_html():
    ex = GradientFlowExplorer(T=20)
    n_figs = len(plt.get_fignums())
    anim = ex.animation("weight_scale", values=[0.5, 1.0, 1.5])
    assert isinstance(anim, FuncAnimation)
    assert len(plt.get_fignums()) == n_figs  # no stray pyplot figure
    del anim
    gc.collect()
    small = dict(figsize=(3, 2), dpi=40)
    html = ex.to_jshtml("weight_scale", values=[0.5, 1.0, 1.5], **small)
    assert_offline_html(html)
    assert html == ex.to_jshtml("weight_scale", values=[0.5, 1.0, 1.5], **small)
    assert html.count("frames[") >= 3 and "frames[3]" not in html
    other = ex.to_jshtml("forget_bias", values=[-1.0, 3.0], **small)
    ids = {re.search(r'id="_anim_img(\w+)"', h).group(1) for h in (html, other)}
    assert len(ids) == 2  # different animations get different ids
    named = ex.to_jshtml("model", id_prefix="anim_ch2", **small)
    assert 'id="_anim_imganim_ch2_0"' in named and "animanim_ch2_0 = new Animation" in named
    with pytest.raises(ValueError, match="param"):
        ex.animation("H")


# ----------------------------------------------------------------------------
# jshtml
# ----------------------------------------------------------------------------
def test_jshtml_strips_cdn_and_random_ids():
    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=40)
    (line,) = ax.plot([0, 1], [0, 0])
    anim = FuncAnimation(fig, lambda k: line.set_ydata([k, k]), frames=2)
    raw = anim.to_jshtml()
    assert "maxcdn" in raw and UUID_HEX.search(raw)  # what matplotlib does by itself
    html = jshtml(anim, "anim-ch2")
    assert_offline_html(html)
    assert 'id="_anim_imganim_ch2_0"' in html
    assert html == jshtml(anim, "anim-ch2")


def test_jshtml_gives_the_frame_an_alt_text_and_the_slider_a_label():
    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=40)
    (line,) = ax.plot([0, 1], [0, 0])
    anim = FuncAnimation(fig, lambda k: line.set_ydata([k, k]), frames=2)
    html = jshtml(anim, "a11y", alt='The "line" moves <up>')
    assert re.search(r'<img alt="The &quot;line&quot; moves &lt;up&gt;"[^>]* id="_anim_imga11y_0"', html)
    assert re.search(r'<input aria-label="Frame of the animation" id="_anim_slidera11y_0"', html)
    assert re.search(r'<img alt="Animation: [^"]+"', jshtml(anim, "a11y"))  # the default
    with pytest.raises(ValueError, match="alt must be a non-empty description"):
        jshtml(anim, "a11y", alt="  ")
    plt.close(fig)


# ----------------------------------------------------------------------------
# GateStepper
# ----------------------------------------------------------------------------
def _lstm_params(T=6, D=3, H=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((T, D)), rng.standard_normal((D, 4 * H)) * 0.8,
            rng.standard_normal((H, 4 * H)) * 0.8, rng.standard_normal(4 * H) * 0.5)


@pytest.fixture(scope="module")
def stepper():
    x, Wx, Wh, b = _lstm_params()
    return GateStepper(x, Wx, Wh, b, feature_names=["a", "b", "c"])


def test_stepper_record_matches_lstm_step_forward(stepper):
    x, Wx, Wh, b = _lstm_params()
    T, H = x.shape[0], Wh.shape[0]
    h, c = np.zeros((1, H)), np.zeros((1, H))
    for t in range(T):
        h, c, cache = lstm_step_forward(x[t][None], h, c, Wx, Wh, b)
        np.testing.assert_allclose(stepper.record["c"][t], c[0], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(stepper.record["h"][t], h[0], rtol=1e-13, atol=1e-15)
        for k in "ifog":
            np.testing.assert_allclose(stepper.record[k][t], cache[k][0], rtol=1e-13)
        np.testing.assert_array_equal(stepper.record["x"][t], x[t])
    assert {k: v.shape for k, v in stepper.record.items()} == {
        "x": (T, 3), "i": (T, H), "f": (T, H), "o": (T, H), "g": (T, H), "c": (T, H),
        "h": (T, H)}


def test_stepper_follows_its_slider(stepper):
    stepper.sliders["step"].value = 0
    cur0, img0, table0 = stepper.current(), stepper.image.value, stepper.table.value
    stepper.sliders["step"].value = 3
    cur3 = stepper.current()
    assert stepper.step == 3
    for k, v in stepper.record.items():
        np.testing.assert_array_equal(cur0[k], v[0])
        np.testing.assert_array_equal(cur3[k], v[3])
    assert not np.allclose(cur0["c"], cur3["c"])
    assert stepper.image.value != img0
    assert stepper.table.value != table0
    assert f"{cur3['c'][0]:.3f}" in stepper.table.value
    # the diagram shows step 3's numbers for the unit of the unit slider
    shown = stepper.diagram.value_texts["c"].get_text()
    assert shown.endswith(f"{cur3['c'][0]:.3f}".replace("-", "\u2212")), shown
    stepper.sliders["unit"].value = 2
    assert stepper.diagram.value_texts["i"].get_text().endswith(
        f"{cur3['i'][2]:.3f}".replace("-", "\u2212"))
    assert "t = 3" in stepper.diagram.ax.get_title() and "unit 2 of H = 4" in stepper.diagram.ax.get_title()
    stepper.sliders["unit"].value = 0
    # the step property and the Play widget drive the same slider
    stepper.step = 1
    assert stepper.sliders["step"].value == 1
    stepper.play.value = 2
    assert stepper.step == 2
    with pytest.raises(ValueError, match="step"):
        stepper.step = 99


def test_stepper_variants_and_initial_state():
    x, Wx, Wh, b = _lstm_params(T=4, H=3)
    H = 3
    rng = np.random.default_rng(5)
    h0, c0 = rng.standard_normal(H), rng.standard_normal(H)
    peep = tuple(rng.standard_normal(H) for _ in range(3))
    st = GateStepper(x[None], Wx, Wh, b, h0=h0, c0=c0[None], peepholes=peep)
    h1, c1, _ = lstm_step_forward(x[:1], h0[None], c0[None], Wx, Wh, b, peepholes=peep)
    np.testing.assert_allclose(st.record["c"][0], c1[0], rtol=1e-13)
    np.testing.assert_allclose(st.record["h"][0], h1[0], rtol=1e-13)
    np.testing.assert_array_equal(st.prev_c(0), c0)
    no_f = GateStepper(x, Wx, Wh, b, forget_gate=False)
    np.testing.assert_array_equal(no_f.record["f"], 1.0)
    np.testing.assert_allclose(no_f.record["c"][1] - no_f.record["c"][0],
                               no_f.record["i"][1] * no_f.record["g"][1], rtol=1e-12)


@pytest.mark.parametrize("bad, match", [
    (dict(x=np.zeros((2, 4, 3))), r"x has shape \(2, 4, 3\) but expected \(T, D\)"),
    (dict(Wx=np.zeros((2, 12))), r"Wx has shape \(2, 12\) but expected \(D, 4H\) = \(3, 12\)"),
    (dict(Wh=np.zeros((3, 8))), r"Wh has shape \(3, 8\) but expected \(H, 4H\)"),
    (dict(b=np.zeros(8)), r"b has shape \(8,\) but expected \(4H,\) = \(12,\)"),
    (dict(h0=np.zeros(2)), r"h0 has shape \(2,\) but expected"),
    (dict(x=np.zeros((4, 3), dtype=int)), r"x must be a floating-point array"),
])
def test_stepper_validates_shapes(bad, match):
    x, Wx, Wh, b = _lstm_params(T=4, H=3)
    args = dict(x=x, Wx=Wx, Wh=Wh, b=b)
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        GateStepper(**args)


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_stepper_static_html_is_offline_and_deterministic():
    x, Wx, Wh, b = _lstm_params(T=3, H=3)
    st = GateStepper(x, Wx, Wh, b)
    html = st.to_jshtml(figsize=(6, 2), dpi=40)
    assert_offline_html(html)
    assert html == st.to_jshtml(figsize=(6, 2), dpi=40)
    assert "frames[2]" in html and "frames[3]" not in html
    assert re.search(r'<img alt="Animation of the LSTM cell diagram[^"]+" style="max-width:100%;height:auto" id="_anim_img', html)  # fits a phone, described
    assert len(html) < 1_500_000
    anim = st.animation(steps=[0, 2])
    assert isinstance(anim, FuncAnimation)
    assert plt.get_fignums() == []
    del anim
    gc.collect()


# ----------------------------------------------------------------------------
# BackwardStepper
# ----------------------------------------------------------------------------
def test_backward_stepper_is_lstm_backward_step_by_step():
    x, Wx, Wh, b = _lstm_params(T=5, H=3)
    rng = np.random.default_rng(7)
    dh, c0 = rng.standard_normal((5, 3)), rng.standard_normal(3)
    st = BackwardStepper(x, Wx, Wh, b, dh, c0=c0, unit=1)
    h_seq, cache = lstm_forward(x[None], np.zeros((1, 3)), Wx, Wh, b, c0=c0[None])
    dx, dh0, _, _, _, dc0 = lstm_backward(dh[None], cache, return_dc0=True)
    np.testing.assert_allclose(st.dx, dx[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(st.dprev_c[0], dc0[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(st.dnext_c[-1], 0.0)          # nothing after the last step
    np.testing.assert_array_equal(st.dnext_h[-1], dh[-1])
    # the player walks backwards in time and the diagram shows that step's gradients
    assert st.step == 4 and st.unit == 1
    st.play.value = 3
    assert st.step == 1
    shown = st.diagram.grad_texts["c_next"].get_text()
    assert shown.endswith(f"{st.dnext_c[1, 1]:.3f}".replace("-", "\u2212")), shown
    assert st.diagram.grad_texts["c_prev"].get_text().endswith(
        f"{st.dprev_c[1, 1]:.3f}".replace("-", "\u2212"))
    assert "backward pass at t = 1" in st.diagram.ax.get_title()
    with pytest.raises(ValueError, match="unit"):
        BackwardStepper(x, Wx, Wh, b, dh, unit=3)
    with pytest.raises(ValueError, match=r"dh has shape \(5, 2\) but expected \(T, H\)"):
        BackwardStepper(x, Wx, Wh, b, dh[:, :2])


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_backward_stepper_static_html_plays_backwards():
    x, Wx, Wh, b = _lstm_params(T=3, H=2)
    st = BackwardStepper(x, Wx, Wh, b, np.ones((3, 2)))
    anim = st.animation()
    assert anim._lstm_course_key[0] == [2, 1, 0]
    html = st.to_jshtml(figsize=(6, 3), dpi=40)
    assert_offline_html(html)
    assert html == st.to_jshtml(figsize=(6, 3), dpi=40)
    assert "frames[2]" in html and "frames[3]" not in html
    assert plt.get_fignums() == []
    del anim
    gc.collect()


def test_explorer_legend_lists_only_the_lines_drawn():
    ex = GradientFlowExplorer(T=10, model="rnn")
    labels = lambda: [t.get_text() for t in ex.ax.get_legend().get_texts()]  # noqa: E731
    assert len(labels()) == 2                       # the norms and the linear-RNN bound
    ex.sliders["model"].value = "lstm"
    assert not ex.ref_line.get_visible()
    assert labels() == [ex.line.get_label()]        # no entry for the hidden bound
    plt.close(ex.fig)
