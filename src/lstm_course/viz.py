"""Plots for the chapters (matplotlib only).

Every function takes ``ax=None`` (draw into a new figure) or an Axes (draw
into it) and returns what it drew into; none calls ``plt.show()``.

``draw_unrolled_rnn``   the computational graph of an RNN unrolled over T steps
                        (with ``backward=True``, the BPTT gradient arrows too)
``draw_lstm_cell``      one LSTM cell with its numbers on the wires (``cell_diagram``)
``plot_gradient_norms`` ||dL/dh_t|| against t or against the time lag
``plot_gate_heatmaps``  x, i, f, o, g, c, h over time as heatmaps
``plot_loss``           a training curve, optionally smoothed
"""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .cell_diagram import describe_lstm_cell, draw_lstm_cell  # noqa: F401  (re-exported)

__all__ = ["draw_unrolled_rnn", "draw_lstm_cell", "describe_lstm_cell", "plot_gradient_norms",
           "plot_gate_heatmaps", "plot_loss"]

# Colours shared by the diagrams: the two shared weight matrices keep their
# colour at every time step.
WX_COLOR = "#2a7ab9"
WH_COLOR = "#d1495b"
C_COLOR = "#e09f3e"
LOSS_COLOR = "#6a4c93"
GRAD_COLOR = "#D55E00"   # the backward arrows (Okabe-Ito vermillion)


def _ax(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


# ----------------------------------------------------------------------------
# the unrolled graph
# ----------------------------------------------------------------------------
def _node(ax, xy, text, color, r=0.28, fontsize=11):
    ax.add_patch(Circle(xy, r, facecolor="white", edgecolor=color, lw=1.6, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _box(ax, xy, w, h, text, color="#333333", face="#f3f3f3", fontsize=11):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor=face, edgecolor=color, lw=1.6, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _arrow(ax, a, b, color="#333333", lw=1.5, rad=0.0, label=None, label_xy=None,
           fontsize=9, ls="-"):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color=color,
                                 lw=lw, ls=ls, shrinkA=0, shrinkB=0,
                                 connectionstyle=f"arc3,rad={rad}", zorder=2))
    if label is not None:
        lx, ly = label_xy if label_xy is not None else ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        ax.text(lx, ly, label, ha="center", va="center", fontsize=fontsize, color=color,
                zorder=5, bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.9))


def draw_unrolled_rnn(T=4, ax=None, cell="RNN", *, folded=True, show_loss=True, backward=False):
    """Draw an RNN (or LSTM) unrolled over T time steps.

    Bottom to top in each column t = 1..T: the input x_t, the cell (labelled
    ``cell``), the hidden state h_t and the loss L_t. Arrows x_t -> cell are
    labelled W_x and h_{t-1} -> cell W_h, in the same colour at every step:
    the weights are SHARED, so their gradients add up over time. With
    ``cell="LSTM"`` the cell state c_t runs along the top of the cells.

    Parameters
    ----------
    T : int >= 1, number of unrolled steps
    ax : Axes or None
    cell : the text in the cell boxes, e.g. "RNN", "LSTM" or "tanh"
    folded : also draw the folded (recurrent) network on the left, "=" the
        unrolled one
    show_loss : draw the losses L_t and the total loss L = sum_t L_t
    backward : also draw the backward pass (dashed, vermillion): the gradient
        delta h_t = dL/dh_t receives two terms, delta h_t^out from the loss
        (output y_t) at step t and delta a_{t+1} W_h^T from step t+1
        (chapter 1; delta z always names what it is the gradient of).

    Returns
    -------
    ax : the Axes (its aspect is equal and its axis is off).
    """
    T = int(T)
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    is_lstm = str(cell).upper() == "LSTM"
    ax = _ax(ax, figsize=(1.9 * T + (4.0 if folded else 1.8), 4.8 if show_loss else 3.8))
    y_x, y_cell, y_h, y_L = 0.0, 1.6, 3.0, 4.2
    bw, bh = 0.95, 0.8       # cell box
    dx = 1.9                 # column spacing
    dy_c = 0.2 if is_lstm else 0.0   # LSTM: c runs above h between the cells

    def column(xc, xlab, hlab, Llab):
        _node(ax, (xc, y_x), xlab, WX_COLOR)
        _box(ax, (xc, y_cell), bw, bh, cell)
        _node(ax, (xc, y_h), hlab, "#333333")
        _arrow(ax, (xc, y_x + 0.28), (xc, y_cell - bh / 2), WX_COLOR,
               label=r"$W_x$", label_xy=(xc + 0.3, (y_x + y_cell) / 2 - 0.05))
        _arrow(ax, (xc, y_cell + bh / 2), (xc, y_h - 0.28))
        if show_loss:
            _node(ax, (xc, y_L), Llab, LOSS_COLOR)
            _arrow(ax, (xc, y_h + 0.28), (xc, y_L - 0.28), LOSS_COLOR)

    x_left = -0.6
    x0 = 0.0
    if folded:
        # The folded network: one cell whose output comes back in through W_h.
        column(0.0, r"$x_t$", r"$h_t$", r"$L_t$")
        ax.add_patch(FancyArrowPatch(
            (bw / 2, y_cell + 0.18), (bw / 2, y_cell - 0.18), arrowstyle="-|>",
            mutation_scale=12, color=WH_COLOR, lw=1.6, zorder=2,
            connectionstyle="arc,angleA=0,angleB=0,armA=28,armB=28,rad=8"))
        ax.text(bw / 2 + 0.45, y_cell + 0.5, r"$W_h$", ha="center", va="center",
                color=WH_COLOR, fontsize=9)
        ax.text(1.55, y_cell, "=", ha="center", va="center", fontsize=24, color="#333333")
        x0 = 2.2

    # The initial state(s), then one column per time step.
    xs = [x0 + 1.2 + dx * k for k in range(T)]
    _node(ax, (x0, y_cell - dy_c), r"$h_0$", WH_COLOR, r=0.26, fontsize=10)
    if is_lstm:
        ax.text(x0, y_cell + 0.45, r"$c_0$", ha="center", va="center", fontsize=10,
                color=C_COLOR)
    if not folded:
        x_left = x0 - 0.5
    for k, xc in enumerate(xs):
        t = k + 1
        column(xc, rf"$x_{{{t}}}$", rf"$h_{{{t}}}$", rf"$L_{{{t}}}$")
        left = x0 + 0.26 if k == 0 else xs[k - 1] + bw / 2
        right = xc - bw / 2
        mid = (left + right) / 2
        # h_{t-1} -> cell t through the shared W_h (the same colour everywhere)
        _arrow(ax, (left, y_cell - dy_c), (right, y_cell - dy_c), WH_COLOR, lw=1.6)
        ax.text(mid, y_cell - dy_c - 0.2, r"$W_h$", ha="center", va="top", fontsize=9,
                color=WH_COLOR)
        if k > 0 and not is_lstm:
            ax.text(mid, y_cell + 0.08, rf"$h_{{{t - 1}}}$", ha="center", va="bottom",
                    fontsize=8, color="#555555")
        if is_lstm:
            cleft = x0 + 0.15 if k == 0 else xs[k - 1] + bw / 2
            _arrow(ax, (cleft, y_cell + dy_c), (right, y_cell + dy_c), C_COLOR, lw=2.4)
            if k > 0:
                ax.text(mid, y_cell + dy_c + 0.1, rf"$c_{{{t - 1}}}$", ha="center",
                        va="bottom", fontsize=9, color=C_COLOR)

    if backward:
        _draw_bptt_arrows(ax, xs, y_cell, y_h, y_L if show_loss else None, bw, bh)
    center = (xs[0] + xs[-1]) / 2
    if show_loss:
        terms = [rf"L_{{{t}}}" for t in range(1, T + 1)]
        if T > 4:
            terms = terms[:2] + [r"\cdots"] + terms[-1:]
        ax.text(center, y_L + 0.6, r"$L = " + " + ".join(terms) + "$", ha="center",
                va="center", fontsize=11, color=LOSS_COLOR)
    ax.text(center, y_x - 0.65,
            r"the same $W_x$, $W_h$, $b$ at every step: their gradients add up over $t$",
            ha="center", va="center", fontsize=9, color="#444444")
    if backward:
        ax.text(center, y_x - 1.05, r"backward (dashed): $\delta h_t = \delta h_t^{\mathrm{out}}"
                r" + \delta a_{t+1} W_h^\top$, the gradient from the loss at step $t$ plus the one"
                r" from step $t+1$",
                ha="center", va="center", fontsize=9, color=GRAD_COLOR)
    ax.set_xlim(x_left, xs[-1] + 0.7)
    ax.set_ylim(y_x - (1.35 if backward else 0.95), (y_L + 0.95) if show_loss else (y_h + 0.5))
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _draw_bptt_arrows(ax, xs, y_cell, y_h, y_L, bw, bh):
    """The backward pass on the unrolled graph: into each h_t from L_t and from step t+1."""
    T = len(xs)
    for k, xc in enumerate(xs):
        t = k + 1
        if y_L is not None:   # from the loss at step t: delta h_t^out
            _arrow(ax, (xc + 0.2, y_L - 0.26), (xc + 0.2, y_h + 0.26), GRAD_COLOR, lw=1.6,
                   rad=-0.5, ls="--", label=rf"$\delta h_{{{t}}}^{{\mathrm{{out}}}}$",
                   label_xy=(xc + 0.52, (y_L + y_h) / 2), fontsize=10)
        if k + 1 < T:         # from step t+1, through W_h: delta a_{t+1} W_h^T
            _arrow(ax, (xs[k + 1] - bw / 2, y_cell + bh / 2 - 0.05), (xc + 0.27, y_h - 0.08),
                   GRAD_COLOR, lw=1.6, rad=0.25, ls="--",
                   label=rf"$\delta a_{{{t + 1}}} W_h^\top$",
                   label_xy=((xc + xs[k + 1]) / 2 + 0.1, y_h - 0.12), fontsize=10)


# ----------------------------------------------------------------------------
# gradient norms
# ----------------------------------------------------------------------------
def plot_gradient_norms(norms_by_label, ax=None, log=True, *, lag=False, marker=None,
                        title=None):
    """Plot ||dL/dh_t|| against t (or against the time lag T-1-t).

    Parameters
    ----------
    norms_by_label : dict label -> array (T,) (e.g. from
        ``widgets.gradient_flow``), or a single array.
    ax : Axes or None
    log : log scale on the y axis (the natural scale for products of
        Jacobians: exponential decay is a straight line)
    lag : if True, the x axis is the time lag T-1-t between the loss at the
        last step and h_t (lag 0 on the left).
    marker, title : passed on to matplotlib.

    Returns
    -------
    ax
    """
    if not isinstance(norms_by_label, dict):
        norms_by_label = {None: norms_by_label}
    ax = _ax(ax, figsize=(6.5, 3.8))
    for label, norms in norms_by_label.items():
        n = np.asarray(norms, dtype=float).ravel()
        t = np.arange(n.size)
        xs = (n.size - 1 - t) if lag else t
        ax.plot(xs, n, label=None if label is None else str(label), marker=marker, lw=1.6)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("time lag T-1-t (steps between h_t and the loss)" if lag else "time step t")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    ax.grid(True, alpha=0.3)
    if any(label is not None for label in norms_by_label):
        ax.legend(fontsize=9)
    if title:
        ax.set_title(title)
    return ax


# ----------------------------------------------------------------------------
# gate heatmaps
# ----------------------------------------------------------------------------
_GATE_ORDER = ("x", "i", "f", "o", "g", "c", "h")
_GATE_LABELS = {
    "x": r"$x_t$", "i": r"$i_t$", "f": r"$f_t$", "o": r"$o_t$", "g": r"$g_t$",
    "c": r"$c_t$", "h": r"$h_t$",
}


def _as_TH(name, v, n):
    a = np.asarray(v, dtype=float)
    if a.ndim == 3:        # (N, T, H), e.g. from lstm.lstm_states: pick sequence n
        a = a[n]
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"record[{name!r}] has shape {np.shape(v)} but expected (T, H) or (N, T, H)")
    return a


def _heat_style(key, a):
    if key in ("i", "f", "o"):
        return dict(cmap="viridis", vmin=0.0, vmax=1.0)
    if key in ("g", "h"):
        return dict(cmap="RdBu_r", vmin=-1.0, vmax=1.0)
    m = float(np.abs(a).max()) if a.size else 1.0
    m = m if m > 0 else 1.0
    return dict(cmap="RdBu_r", vmin=-m, vmax=m)


def plot_gate_heatmaps(record, ax=None, *, keys=None, n=0, colorbar=True, title=None):
    """Heatmaps of x, i, f, o, g, c, h over time (time on the x axis, units on y).

    Parameters
    ----------
    record : dict name -> array (T, H) (``x``: (T, D)), e.g. ``GateStepper.record``;
        arrays (N, T, H) are accepted too (e.g. ``lstm.lstm_states(cache)``),
        sequence ``n`` is shown.
    ax : None (a new figure, one row per quantity), a sequence of Axes (one
        per quantity), or a single Axes (all quantities stacked in one image,
        each scaled to its own range, separated by lines).
    keys : which quantities, default those of "x", "i", "f", "o", "g", "c",
        "h" present in ``record``, in that order.
    colorbar : one colour bar per row (multi-axes form only).

    Colour scales: gates i, f, o from 0 to 1 (viridis); g and h from -1 to 1,
    x and c symmetric around 0 (blue negative, red positive).

    Returns
    -------
    The array of Axes (one per quantity), or the single Axes that was given.
    """
    if keys is None:
        keys = [k for k in _GATE_ORDER if k in record] + \
               [k for k in record if k not in _GATE_ORDER]
    keys = list(keys)
    if not keys:
        raise ValueError("record is empty: expected arrays for some of x, i, f, o, g, c, h")
    data = {k: _as_TH(k, record[k], n) for k in keys}
    T = data[keys[0]].shape[0]

    if ax is not None and not isinstance(ax, (list, tuple, np.ndarray)):
        # One Axes: stack every quantity, each normalised to [-1, 1] or [0, 1] -> [-1, 1].
        rows, ticks, labels = [], [], []
        y = 0
        for k in keys:
            a = data[k]
            st = _heat_style(k, a)
            z = 2 * (a - st["vmin"]) / (st["vmax"] - st["vmin"]) - 1
            rows.append(z.T)
            ticks.append(y + a.shape[1] / 2 - 0.5)
            labels.append(_GATE_LABELS.get(k, k))
            y += a.shape[1]
        img = np.vstack(rows)
        ax.imshow(img, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        y = 0
        for k in keys[:-1]:
            y += data[k].shape[1]
            ax.axhline(y - 0.5, color="k", lw=1.0)
        ax.set_yticks(ticks)
        ax.set_yticklabels(labels)
        ax.set_xlabel("time step t")
        if title:
            ax.set_title(title)
        return ax

    if ax is None:
        heights = [max(1.0, min(3.0, data[k].shape[1] / 6)) for k in keys]
        fig, axes = plt.subplots(len(keys), 1, sharex=True, squeeze=False,
                                 figsize=(8, 0.5 + 0.55 * sum(heights) + 0.3 * len(keys)),
                                 gridspec_kw={"height_ratios": heights}, layout="constrained")
        axes = axes[:, 0]
    else:
        axes = np.asarray(ax, dtype=object).ravel()
        if axes.size != len(keys):
            raise ValueError(f"ax has {axes.size} Axes but expected one per key: {keys}")
        fig = axes[0].figure
    for a_ax, k in zip(axes, keys):
        a = data[k]
        im = a_ax.imshow(a.T, aspect="auto", interpolation="nearest", **_heat_style(k, a),
                         extent=(-0.5, T - 0.5, a.shape[1] - 0.5, -0.5))
        a_ax.set_ylabel(_GATE_LABELS.get(k, k), rotation=0, ha="right", va="center", fontsize=11)
        a_ax.tick_params(labelsize=7)
        if a.shape[1] > 8:
            a_ax.set_yticks([0, a.shape[1] - 1])
        if colorbar:
            fig.colorbar(im, ax=a_ax, pad=0.01, aspect=8, fraction=0.04)
    axes[-1].set_xlabel("time step t")
    if title:
        axes[0].set_title(title)
    return axes


# ----------------------------------------------------------------------------
# loss curves
# ----------------------------------------------------------------------------
def _smooth(y, smooth):
    """Moving average (int window) or exponential smoothing (float in (0, 1))."""
    y = np.asarray(y, dtype=float)
    if isinstance(smooth, (int, np.integer)) and not isinstance(smooth, bool):
        w = int(smooth)
        if w < 1:
            raise ValueError(f"smooth must be a window >= 1 or a float in (0, 1), got {smooth}")
        if w == 1 or y.size == 0:
            return y
        c = np.cumsum(np.insert(y, 0, 0.0))
        out = np.empty_like(y)
        for k in range(y.size):   # a trailing window, shorter at the start
            lo = max(0, k + 1 - w)
            out[k] = (c[k + 1] - c[lo]) / (k + 1 - lo)
        return out
    beta = float(smooth)
    if not 0.0 < beta < 1.0:
        raise ValueError(f"smooth must be a window >= 1 or a float in (0, 1), got {smooth}")
    out = np.empty_like(y)
    s = y[0] if y.size else 0.0
    for k, v in enumerate(y):   # like min-char-rnn: s = beta * s + (1 - beta) * loss
        s = beta * s + (1 - beta) * v
        out[k] = s
    return out


def plot_loss(history_or_losses, ax=None, label=None, smooth=None, *, log=False, val=True):
    """Plot a training curve.

    Parameters
    ----------
    history_or_losses : a ``train.History`` (or any object with ``.loss`` and
        optionally ``.step``, ``.val_step``, ``.val_loss``), a dict with the
        same keys, or a sequence of losses (plotted against the step index).
    ax : Axes or None
    label : legend label of the training curve
    smooth : None; an int window (trailing moving average); or a float beta in
        (0, 1) for exponential smoothing (min-char-rnn uses 0.999). The raw
        curve is then drawn faintly behind the smoothed one.
    log : log scale on the y axis
    val : also plot the validation loss when the history has one

    Returns
    -------
    ax
    """
    h = history_or_losses
    get = (lambda k: h.get(k)) if isinstance(h, dict) else (lambda k: getattr(h, k, None))
    if isinstance(h, dict) or hasattr(h, "loss"):
        loss = np.asarray(get("loss"), dtype=float)
        step = get("step")
        step = np.arange(loss.size) if step is None or len(step) != loss.size else np.asarray(step)
        val_step, val_loss = get("val_step"), get("val_loss")
    else:
        loss = np.asarray(h, dtype=float).ravel()
        step = np.arange(loss.size)
        val_step = val_loss = None
    ax = _ax(ax, figsize=(6.5, 3.8))
    if smooth is not None:
        (raw,) = ax.plot(step, loss, lw=0.8, alpha=0.3)
        ax.plot(step, _smooth(loss, smooth), lw=1.8, color=raw.get_color(),
                label=label if label is not None else "training loss (smoothed)")
    else:
        ax.plot(step, loss, lw=1.5, label=label if label is not None else "training loss")
    if val and val_loss is not None and len(val_loss):
        vs = np.arange(len(val_loss)) if val_step is None else np.asarray(val_step)
        ax.plot(vs, np.asarray(val_loss, dtype=float), "o-", ms=3, lw=1.2,
                label="validation loss" if label is None else f"{label} (validation)")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    return ax
