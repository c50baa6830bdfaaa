"""viz: every function draws something and returns what it drew into."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from lstm_course import viz  # noqa: E402
from lstm_course.lstm import lstm_forward, lstm_states  # noqa: E402
from lstm_course.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("T, cell, folded", [(4, "RNN", True), (3, "LSTM", False), (1, "RNN", False)])
def test_draw_unrolled_rnn(T, cell, folded):
    ax = viz.draw_unrolled_rnn(T, cell=cell, folded=folded)
    assert isinstance(ax, Axes)
    texts = _texts(ax)
    assert texts.count(cell) == T + int(folded)  # one box per step (+ the folded cell)
    for t in range(1, T + 1):
        for sym in ("x", "h", "L"):
            assert f"${sym}_{{{t}}}$" in texts
    assert texts.count("$W_x$") == T + int(folded)       # shared input weights at every step
    assert texts.count("$W_h$") == T + int(folded)       # shared recurrent weights
    assert ("$c_0$" in texts) == (cell == "LSTM")
    assert len(ax.patches) > 4 * T
    ax.figure.canvas.draw()  # renders without error (mathtext included)


def test_draw_unrolled_rnn_into_given_axes_and_validates():
    fig, ax = plt.subplots()
    assert viz.draw_unrolled_rnn(2, ax=ax) is ax
    with pytest.raises(ValueError, match="T"):
        viz.draw_unrolled_rnn(0)


def test_plot_gradient_norms():
    norms = {"a": np.array([1e-3, 1e-2, 1.0]), "b": np.array([1.0, 1.0, 1.0])}
    ax = viz.plot_gradient_norms(norms)
    assert isinstance(ax, Axes) and len(ax.lines) == 2
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), norms["a"])
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 2])
    ax2 = viz.plot_gradient_norms(norms["a"], log=False, lag=True)
    assert ax2.get_yscale() == "linear"
    np.testing.assert_array_equal(ax2.lines[0].get_xdata(), [2, 1, 0])


def _record(T=7, H=5, D=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, T, D))
    _, cache = lstm_forward(x, np.zeros((1, H)), rng.standard_normal((D, 4 * H)),
                            rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H))
    rec = lstm_states(cache)
    rec["x"] = x
    return rec


def test_plot_gate_heatmaps_one_row_per_quantity():
    rec = _record()
    axes = viz.plot_gate_heatmaps(rec)
    assert len(axes) == 7
    labels = [a.get_ylabel() for a in axes]
    assert labels == ["$x_t$", "$i_t$", "$f_t$", "$o_t$", "$g_t$", "$c_t$", "$h_t$"]
    for a, k in zip(axes, "xifogch"):
        (im,) = a.images
        np.testing.assert_allclose(im.get_array(), rec[k][0].T)
    assert axes[1].images[0].get_clim() == (0.0, 1.0)


def test_plot_gate_heatmaps_given_axes():
    rec = {k: v[0] for k, v in _record().items()}
    fig, axes = plt.subplots(2, 1)
    out = viz.plot_gate_heatmaps(rec, ax=axes, keys=["f", "c"], colorbar=False)
    assert list(out) == list(axes) and len(axes[0].images) == 1
    fig, ax = plt.subplots()
    assert viz.plot_gate_heatmaps(rec, ax=ax) is ax
    assert ax.images[0].get_array().shape == (2 + 6 * 5, 7)  # all stacked
    with pytest.raises(ValueError, match="Axes"):
        viz.plot_gate_heatmaps(rec, ax=axes)


def test_plot_loss_list_and_smoothing():
    losses = [4.0, 2.0, 2.0, 0.0]
    ax = viz.plot_loss(losses)
    assert isinstance(ax, Axes) and len(ax.lines) == 1
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), losses)
    ax = viz.plot_loss(losses, smooth=2, label="run")
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [4.0, 3.0, 2.0, 1.0])
    ax = viz.plot_loss(losses, smooth=0.5)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [4.0, 3.0, 2.5, 1.25])
    with pytest.raises(ValueError, match="smooth"):
        viz.plot_loss(losses, smooth=1.5)


def test_plot_loss_history():
    h = History(step=[0, 1, 2], loss=[3.0, 2.0, 1.0], grad_norm=[1, 1, 1],
                val_step=[1, 2], val_loss=[2.5, 1.5])
    fig, ax = plt.subplots()
    assert viz.plot_loss(h, ax=ax) is ax
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [1, 2])
    ax2 = viz.plot_loss({"loss": [1.0, 0.5]}, log=True)
    assert ax2.get_yscale() == "log"
