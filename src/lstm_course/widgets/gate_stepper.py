"""The gate stepper (chapters 4 and 5): step through one sequence and watch the gates.

The LSTM cell diagram (``cell_diagram.draw_lstm_cell``) with the numbers of
step t on its wires (x_t, h_{t-1}, c_{t-1}, the gates i, f, o, the candidate
g, c_t, tanh(c_t) and h_t) for one unit, and a table of every unit's numbers;
live (sliders over t and the unit) or, for the book, as an animation
(``.to_jshtml(...)``).
"""
import hashlib

import numpy as np

from .._validate import as_float_array, check_ndim, check_shape
from ..cell_diagram import draw_lstm_cell
from ..lstm import lstm_step_forward
from ._cell_player import CellPlayer

__all__ = ["GateStepper", "GATE_KEYS"]

GATE_KEYS = ("x", "i", "f", "o", "g", "c", "h")

def _html_color(key, v, cmax):
    """Background colour of a table cell, as on the diagram (Okabe-Ito, colour-blind safe):
    vermillion for positive numbers, blue for negative ones, stronger for larger |v|
    (gates 0..1, the others relative to the largest |v| of their row over time)."""
    if key in ("i", "f", "o"):
        a = float(np.clip(v, 0.0, 1.0))
    else:
        a = float(np.clip(abs(v) / cmax, 0.0, 1.0)) if cmax > 0 else 0.0
    return f"rgba(213, 94, 0, {0.6 * a:.2f})" if v >= 0 else f"rgba(0, 114, 178, {0.6 * a:.2f})"


_ROW_LABELS = {
    "x": "x<sub>t</sub>", "i": "i (input gate)", "f": "f (forget gate)",
    "o": "o (output gate)", "g": "g (candidate)", "c": "c<sub>t</sub>", "h": "h<sub>t</sub>",
}


class GateStepper(CellPlayer):
    """Step through one sequence and watch x_t, i, f, o, g, c_t and h_t.

    Parameters
    ----------
    x : (T, D) one input sequence (``(1, T, D)`` is accepted too)
    Wx : (D, 4H), Wh : (H, 4H), b : (4H,) LSTM parameters (gate order i, f, o, g)
    h0, c0 : (H,) or (1, H), default zeros
    forget_gate, peepholes : as in :func:`lstm_course.lstm.lstm_step_forward`
    feature_names : optional list of D names for the input features
    unit : the unit shown on the diagram at first (the table shows all H)

    All steps are computed up front with ``lstm_step_forward``; the diagram
    shows the numbers of step t's cache.

    Attributes
    ----------
    record : dict name -> array (T, .) with keys "x" (T, D) and "i", "f",
        "o", "g", "c", "h" (T, H): row t is the state after step t (``c`` is
        c_t, ``h`` is h_t; ``f`` is all ones without a forget gate).
    caches : list of T caches of ``lstm_step_forward`` (N = 1), one per step.
    sliders : {"step": IntSlider 0..T-1, "unit": IntSlider 0..H-1}; a Play
        widget ``play`` drives the step.
    fig, ax, image : the Figure of the diagram and the ipywidgets.Image showing it.
    diagram : the current ``CellDiagram`` (its Text artists carry the numbers).
    table : ipywidgets.HTML with the numbers of the current step (3 decimals,
        coloured).
    ui : the container to display.

    ``stepper.step = 3`` (or ``stepper.sliders["step"].value = 3``) updates
    ``current()``, the diagram and the table synchronously.
    """

    name = "gates"

    def __init__(self, x, Wx, Wh, b, h0=None, c0=None, *, forget_gate=True, peepholes=None,
                 feature_names=None, unit=0):
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
        self.caches = []
        for t in range(T):
            h, c, cache = lstm_step_forward(x[t:t + 1], h, c, Wx, Wh, b,
                                            forget_gate=forget_gate, peepholes=peepholes)
            self.caches.append(cache)
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
        self._order = list(range(T))     # played forwards in time
        import ipywidgets as W

        self.table = W.HTML()
        self._build_player(unit, extra=[self.table])

    @staticmethod
    def _state(name, v, H):
        if v is None:
            return np.zeros((1, H))
        v = as_float_array(name, v)
        if v.shape == (H,):
            return v[None, :]
        return check_shape(name, v, (1, H), f"(H,) = ({H},) or (1, H)")

    # -- state -------------------------------------------------------------
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

    def _diagram(self, ax, t, unit):
        """The cell diagram of step t, unit ``unit``, numbers from step t's cache."""
        return draw_lstm_cell(ax, values=self.caches[t], forget_gate=self.forget_gate,
                              peepholes=self.peepholes is not None, unit=unit,
                              title=f"t = {t} (step {t + 1} of {self.T}), "
                                    f"unit {unit} of H = {self.H}")

    def table_html(self, t=None):
        """An HTML table of the values at step t (default: current), 3 decimals, coloured."""
        t = self.step if t is None else int(t)
        lim = self._limits()
        rows = []
        cell = "padding:1px 5px;text-align:right;font-family:monospace;font-size:13px;"
        for k in GATE_KEYS:
            vals = self.record[k][t]
            tds = "".join(
                f'<td style="{cell}background:{_html_color(k, v, lim[k][1])}">{v:.3f}</td>'
                for v in vals
            )
            rows.append(f'<tr><th style="text-align:left;padding:1px 6px;font-size:13px;">'
                        f"{_ROW_LABELS[k]}</th>{tds}</tr>")
        head = (f'<div style="font-size:13px;margin:2px 0;">Step t = {t}: '
                "c<sub>t</sub> = f &#8857; c<sub>t-1</sub> + i &#8857; g, "
                "h<sub>t</sub> = o &#8857; tanh(c<sub>t</sub>)</div>")
        return (head + '<table style="border-collapse:collapse;">' + "".join(rows) + "</table>")

    def _update_extra(self):
        self.table.value = self.table_html(self.step)
