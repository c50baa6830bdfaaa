"""The backward stepper (chapter 6): walk the gradient back through time on the cell diagram.

One sequence is run forward with ``lstm_step_forward``, then backward with
``lstm_step_backward`` from t = T-1 down to 0, exactly as ``lstm_backward``
does: step t receives dh_t = dh[t] + (what step t+1 sent back through h) and
dc_t^next (what step t+1 sent back through c). Each frame is the cell
diagram of one step with its gradients on the wires (``draw_lstm_cell(...,
grads=...)``), the two sources of dc_t highlighted; the animation plays from
the last step back to the first.
"""
import hashlib

import numpy as np

from .._validate import as_float_array, check_shape
from ..cell_diagram import draw_lstm_cell
from ..lstm import lstm_step_backward, lstm_step_forward
from ._cell_player import CellPlayer

__all__ = ["BackwardStepper"]


class BackwardStepper(CellPlayer):
    """Step backwards through one sequence and watch the two error streams, through h and c.

    Parameters
    ----------
    x : (T, D) one input sequence (``(1, T, D)`` is accepted too)
    Wx : (D, 4H), Wh : (H, 4H), b : (4H,) LSTM parameters (gate order i, f, o, g)
    dh : (T, H) (or (1, T, H)): dL/dh_t from the loss at every step (the
        ``dh`` of ``lstm_backward``; zeros where the loss does not read h_t)
    h0, c0 : (H,) or (1, H), default zeros
    dc_T : (H,) or (1, H) or None, the gradient w.r.t. the last cell state
    forget_gate, peepholes : as in :func:`lstm_course.lstm.lstm_step_forward`
    unit : the unit shown at first

    Attributes
    ----------
    caches : the T forward caches (N = 1)
    dnext_h, dnext_c : (T, H), what step t's backward pass received: the total
        dL/dh_t (from the loss at t and from step t+1) and dc_t^next (from c_{t+1})
    dprev_c : (T, H), dL/dc_{t-1} that step t sent back (row 0 is dL/dc_0)
    dx : (T, D), dL/dx_t
    sliders, play, image, diagram, ui : as for :class:`GateStepper`; the Play
        widget walks t from T-1 down to 0.
    """

    name = "backward"

    def __init__(self, x, Wx, Wh, b, dh, h0=None, c0=None, *, dc_T=None, forget_gate=True,
                 peepholes=None, unit=0):
        x = as_float_array("x", x)
        if x.ndim == 3 and x.shape[0] == 1:
            x = x[0]
        if x.ndim != 2 or x.shape[0] < 1:
            raise ValueError(f"x has shape {x.shape} but expected (T, D) or (1, T, D) with T >= 1")
        T, D = x.shape
        Wh = as_float_array("Wh", Wh)
        H = Wh.shape[0] if Wh.ndim == 2 else 0
        Wh = check_shape("Wh", Wh, (H, 4 * H), "(H, 4H)")
        dh = as_float_array("dh", dh)
        dh = check_shape("dh", dh[0] if dh.ndim == 3 and dh.shape[0] == 1 else dh, (T, H), "(T, H)")
        state = {name: self._state(name, v, H) for name, v in (("h0", h0), ("c0", c0), ("dc_T", dc_T))}
        self.T, self.D, self.H = T, D, H
        self.forget_gate, self.peepholes = bool(forget_gate), peepholes

        # Forward, keeping every step's cache.
        h, c, self.caches = state["h0"], state["c0"], []
        for t in range(T):
            h, c, cache = lstm_step_forward(x[t:t + 1], h, c, Wx, Wh, b,
                                            forget_gate=forget_gate, peepholes=peepholes)
            self.caches.append(cache)
        # Backward through time, as lstm_backward does, recording what each step received.
        self.dnext_h, self.dnext_c = np.empty((T, H)), np.empty((T, H))
        self.dprev_c, self.dx = np.empty((T, H)), np.empty((T, D))
        dprev_h, dprev_c = np.zeros((1, H)), state["dc_T"]
        for t in reversed(range(T)):
            self.dnext_h[t], self.dnext_c[t] = dh[t] + dprev_h[0], dprev_c[0]
            grads = lstm_step_backward(self.dnext_h[t:t + 1], self.dnext_c[t:t + 1], self.caches[t])
            dx, dprev_h, dprev_c = grads[:3]
            self.dx[t], self.dprev_c[t] = dx[0], dprev_c[0]

        digest = hashlib.sha1(repr((self.forget_gate, peepholes is not None)).encode())
        for arr in (x, Wx, Wh, b, dh, *state.values(), *(peepholes or ())):
            digest.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
        self._digest = digest.hexdigest()
        self._order = list(reversed(range(T)))   # played backwards in time
        self._build_player(unit)

    @staticmethod
    def _state(name, v, H):
        if v is None:
            return np.zeros((1, H))
        v = as_float_array(name, v)
        if v.shape == (H,):
            return v[None, :]
        return check_shape(name, v, (1, H), f"(H,) = ({H},) or (1, H)")

    def _diagram(self, ax, t, unit):
        """The cell of step t with the gradients its backward pass computed, unit ``unit``."""
        grads = dict(dnext_h=self.dnext_h[t:t + 1], dnext_c=self.dnext_c[t:t + 1],
                     cache=self.caches[t])
        last = r" (the last step: nothing from $c_{t+1}$)" if t == self.T - 1 else ""
        return draw_lstm_cell(ax, grads=grads, forget_gate=self.forget_gate,
                              peepholes=self.peepholes is not None, unit=unit,
                              highlight="dc_sources",
                              title=f"backward pass at t = {t}{last}, unit {unit} of H = {self.H}")
