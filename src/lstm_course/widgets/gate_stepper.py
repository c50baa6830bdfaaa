"""The gate stepper (chapters 4 and 5): step through one sequence and watch the gates.

x_t, the gates i, f, o, the candidate g, the cell state c_t and the output h_t,
as bars and as a table of numbers, live (a slider over t) or, for the book, as
an animation (``.to_jshtml(...)``).
"""
import hashlib

import numpy as np
from matplotlib.animation import FuncAnimation

from .._validate import as_float_array, check_ndim, check_shape
from ..lstm import lstm_step_forward
from ._jshtml import _auto_prefix, _display, _freeze_layout, _new_figure, _png, jshtml

__all__ = ["GateStepper", "GATE_KEYS"]

GATE_KEYS = ("x", "i", "f", "o", "g", "c", "h")

def _html_color(key, v, cmax):
    """Background colour of a table cell: gates 0..1 white->green, others blue-white-red."""
    if key in ("i", "f", "o"):
        a = float(np.clip(v, 0.0, 1.0))
        return f"rgba(46, 160, 67, {0.85 * a:.2f})"
    a = float(np.clip(abs(v) / cmax, 0.0, 1.0)) if cmax > 0 else 0.0
    return f"rgba(214, 39, 40, {0.8 * a:.2f})" if v >= 0 else f"rgba(31, 119, 180, {0.8 * a:.2f})"


_ROW_LABELS = {
    "x": "x<sub>t</sub>", "i": "i (input gate)", "f": "f (forget gate)",
    "o": "o (output gate)", "g": "g (candidate)", "c": "c<sub>t</sub>", "h": "h<sub>t</sub>",
}
_BAR_TITLES = {
    "x": r"$x_t$", "i": r"$i$ input", "f": r"$f$ forget", "o": r"$o$ output",
    "g": r"$g$ candidate", "c": r"$c_t$ cell", "h": r"$h_t$ output",
}
_BAR_COLORS = {"x": "0.45", "i": "C2", "f": "C1", "o": "C4", "g": "C0", "c": "C3", "h": "C9"}


class GateStepper:
    """Step through one sequence and watch x_t, i, f, o, g, c_t and h_t.

    Parameters
    ----------
    x : (T, D) one input sequence (``(1, T, D)`` is accepted too)
    Wx : (D, 4H), Wh : (H, 4H), b : (4H,) LSTM parameters (gate order i, f, o, g)
    h0, c0 : (H,) or (1, H), default zeros
    forget_gate, peepholes : as in :func:`lstm_course.lstm.lstm_step_forward`
    feature_names : optional list of D names for the input features

    All steps are computed up front with ``lstm_step_forward``.

    Attributes
    ----------
    record : dict name -> array (T, .) with keys "x" (T, D) and "i", "f",
        "o", "g", "c", "h" (T, H): row t is the state after step t (``c`` is
        c_t, ``h`` is h_t; ``f`` is all ones without a forget gate).
    sliders : {"step": IntSlider 0..T-1}, linked to a Play widget ``play``.
    fig, image : the bar-chart Figure and the ipywidgets.Image showing it.
    table : ipywidgets.HTML with the numbers of the current step (3 decimals,
        coloured).
    ui : the container to display.

    ``stepper.step = 3`` (or ``stepper.sliders["step"].value = 3``) updates
    ``current()``, the bars and the table synchronously.
    """

    dpi = 72

    def __init__(self, x, Wx, Wh, b, h0=None, c0=None, *, forget_gate=True, peepholes=None,
                 feature_names=None):
        x = as_float_array("x", x)
        if x.ndim == 3 and x.shape[0] == 1:
            x = x[0]
        if x.ndim != 2:
            raise ValueError(f"x has shape {x.shape} but expected (T, D) or (1, T, D)")
        T, D = x.shape
        if T < 1:
            raise ValueError(f"x has shape {x.shape} but expected (T, D) with T >= 1")
        Wh = check_ndim("Wh", Wh, 2, "(H, 4H)")
        H = Wh.shape[0]
        Wh = check_shape("Wh", Wh, (H, 4 * H), "(H, 4H)")
        Wx = check_shape("Wx", Wx, (D, 4 * H), "(D, 4H)")
        b = check_shape("b", b, (4 * H,), "(4H,)")
        h = self._state("h0", h0, H)
        c = self._state("c0", c0, H)
        if feature_names is None:
            feature_names = [f"x[{d}]" for d in range(D)]
        feature_names = [str(n) for n in feature_names]
        if len(feature_names) != D:
            raise ValueError(f"feature_names has length {len(feature_names)} but expected D = {D}")
        self.T, self.D, self.H = T, D, H
        self.feature_names = feature_names
        self.forget_gate, self.peepholes = forget_gate, peepholes

        rec = {k: [] for k in GATE_KEYS}
        for t in range(T):
            h, c, cache = lstm_step_forward(x[t:t + 1], h, c, Wx, Wh, b,
                                            forget_gate=forget_gate, peepholes=peepholes)
            rec["x"].append(x[t])
            for k in "iog":
                rec[k].append(cache[k][0])
            rec["f"].append(cache["f"][0] if forget_gate else np.ones(H))
            rec["c"].append(c[0])
            rec["h"].append(h[0])
        self.record = {k: np.array(v) for k, v in rec.items()}
        self.c0 = self._state("c0", c0, H)[0]
        # A digest of the INPUTS (exact, unlike results that may differ in the
        # last bit between machines): the default id of the static form.
        digest = hashlib.sha1(repr((bool(forget_gate), peepholes is not None)).encode())
        for arr in (x, Wx, Wh, b, self._state("h0", h0, H), self.c0, *(peepholes or ())):
            digest.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
        self._digest = digest.hexdigest()
        self._build_ui()

    @staticmethod
    def _state(name, v, H):
        if v is None:
            return np.zeros((1, H))
        v = as_float_array(name, v)
        if v.shape == (H,):
            return v[None, :]
        return check_shape(name, v, (1, H), f"(H,) = ({H},) or (1, H)")

    # -- state -------------------------------------------------------------
    @property
    def step(self):
        """The current time step t (0..T-1); setting it updates the display."""
        return int(self.sliders["step"].value)

    @step.setter
    def step(self, t):
        t = int(t)
        if not 0 <= t < self.T:
            raise ValueError(f"step must be in 0..{self.T - 1}, got {t}")
        self.sliders["step"].value = t

    def current(self):
        """The state at the current step: dict name -> copy of ``record[name][t]``."""
        t = self.step
        return {k: v[t].copy() for k, v in self.record.items()}

    def prev_c(self, t=None):
        """c_{t-1} for step t (default: the current step); c0 for t = 0."""
        t = self.step if t is None else int(t)
        return self.c0.copy() if t == 0 else self.record["c"][t - 1].copy()

    # -- drawing -----------------------------------------------------------
    def _limits(self):
        lim = {}
        for k, v in self.record.items():
            if k in ("i", "f", "o"):
                lim[k] = (0.0, 1.0)
            elif k in ("g", "h"):
                lim[k] = (-1.0, 1.0)
            else:
                m = max(float(np.abs(v).max()), float(np.abs(self.c0).max()) if k == "c" else 0.0)
                m = 1.0 if m == 0 else 1.05 * m
                lim[k] = (-m, m)
        return lim

    def _make_figure(self, figsize=None, dpi=None):
        n = max(self.H, self.D)
        if figsize is None:
            figsize = (10.5, min(7.0, 1.8 + 0.16 * n))
        fig = _new_figure(figsize, dpi or self.dpi)
        axes = fig.subplots(1, len(GATE_KEYS), sharey=False)
        lim = self._limits()
        artists = {}
        for ax, k in zip(axes, GATE_KEYS):
            size = self.D if k == "x" else self.H
            y = np.arange(size)
            bars = ax.barh(y, np.zeros(size), color=_BAR_COLORS[k], height=0.8)
            ax.set_xlim(*lim[k])
            ax.set_ylim(size - 0.5, -0.5)
            ax.set_title(_BAR_TITLES[k], fontsize=10)
            ax.axvline(0, color="0.3", lw=0.6)
            ax.tick_params(labelsize=7)
            if k == "x":
                ax.set_yticks(y)
                ax.set_yticklabels(self.feature_names)
            else:
                ax.set_yticks(y if size <= 16 else y[::max(1, size // 8)])
                if k != "i":
                    ax.set_yticklabels([])
                else:
                    ax.set_ylabel("unit", fontsize=8, labelpad=1)
            extra = None
            if k == "c":  # c_{t-1} as a dashed outline: c_t = f * c_{t-1} + i * g
                extra = ax.barh(y, np.zeros(size), fill=False, edgecolor="0.2", lw=0.8,
                                ls="--", height=0.8)
                ax.set_title(r"$c_t$ (- - $c_{t-1}$)", fontsize=10)
            artists[k] = (bars, extra)
        suptitle = fig.suptitle(f"t = {self.T - 1}  (step {self.T} of {self.T})", fontsize=11)
        _freeze_layout(fig)
        return fig, artists, suptitle

    def _draw(self, artists, suptitle, t):
        for k, (bars, extra) in artists.items():
            for bar, v in zip(bars, self.record[k][t]):
                bar.set_width(v)
            if extra is not None:
                for bar, v in zip(extra, self.prev_c(t)):
                    bar.set_width(v)
        suptitle.set_text(f"t = {t}  (step {t + 1} of {self.T})")

    def table_html(self, t=None):
        """An HTML table of the values at step t (default: current), 3 decimals, coloured."""
        t = self.step if t is None else int(t)
        lim = self._limits()
        rows = []
        cell = "padding:1px 5px;text-align:right;font-family:monospace;font-size:11px;"
        for k in GATE_KEYS:
            vals = self.record[k][t]
            tds = "".join(
                f'<td style="{cell}background:{_html_color(k, v, lim[k][1])}">{v:.3f}</td>'
                for v in vals
            )
            rows.append(f'<tr><th style="text-align:left;padding:1px 6px;font-size:11px;">'
                        f"{_ROW_LABELS[k]}</th>{tds}</tr>")
        head = (f'<div style="font-size:12px;margin:2px 0;">Step t = {t}: '
                "c<sub>t</sub> = f &#8857; c<sub>t-1</sub> + i &#8857; g, "
                "h<sub>t</sub> = o &#8857; tanh(c<sub>t</sub>)</div>")
        return (head + '<table style="border-collapse:collapse;">' + "".join(rows) + "</table>")

    def _build_ui(self):
        import ipywidgets as W

        self.sliders = {"step": W.IntSlider(value=0, min=0, max=self.T - 1, step=1,
                                            description="step t")}
        self.play = W.Play(value=0, min=0, max=self.T - 1, step=1, interval=600,
                           description="play")
        # A Python-side link: works in a kernel and can be driven from Python.
        self._link = W.link((self.play, "value"), (self.sliders["step"], "value"))
        self.fig, self._artists, self._suptitle = self._make_figure()
        self.image = W.Image(format="png")
        self.table = W.HTML()
        self.ui = W.VBox([W.HBox([self.play, self.sliders["step"]]), self.image, self.table])
        self.sliders["step"].observe(self._on_change, names="value")
        self.update()

    def _on_change(self, change):
        self.update()

    def update(self):
        """Redraw the bars and the table for the current step."""
        t = self.step
        self._draw(self._artists, self._suptitle, t)
        self.image.value = _png(self.fig, self.dpi)
        self.table.value = self.table_html(t)

    def _ipython_display_(self):
        _display(self.ui)

    # -- static form -------------------------------------------------------
    def animation(self, steps=None, *, max_frames=30, figsize=None, dpi=None):
        """A FuncAnimation with one frame per time step (the bars of the live widget).

        steps : the steps to show (default: all, or ``max_frames`` evenly
            spaced ones when T is larger).
        """
        if steps is None:
            steps = (np.arange(self.T) if self.T <= max_frames
                     else np.unique(np.linspace(0, self.T - 1, max_frames).round().astype(int)))
        steps = [int(s) for s in steps]
        for s in steps:
            if not 0 <= s < self.T:
                raise ValueError(f"steps must be in 0..{self.T - 1}, got {s}")
        fig, artists, suptitle = self._make_figure(figsize, dpi)

        def draw(k):
            self._draw(artists, suptitle, steps[k])
            return []

        anim = FuncAnimation(fig, draw, frames=len(steps), interval=700, blit=False,
                             init_func=lambda: draw(0))
        anim._lstm_course_key = steps
        return anim

    def to_jshtml(self, steps=None, *, id_prefix=None, fps=None, default_mode="once", **kw):
        """The static form as an HTML string (see :func:`jshtml`)."""
        anim = self.animation(steps, **kw)
        if id_prefix is None:
            id_prefix = _auto_prefix("gates", self._digest, anim._lstm_course_key)
        return jshtml(anim, id_prefix, fps=fps, default_mode=default_mode)
