"""What the two steppers share: the cell diagram of one time step, live and as an animation.

A subclass computes its steps up front and says how to draw step t
(``_diagram(ax, t, unit)``, a call of ``cell_diagram.draw_lstm_cell``). This
class gives it a slider over t and one over the unit, a Play button, the
diagram as a PNG (``image``) and the static form for the book: a FuncAnimation
with one frame per step and ``to_jshtml`` (see ``_jshtml.jshtml``: offline,
deterministic ids, frames that shrink to the width of a phone).

The frames are 7.4 x 4.0 inches at 100 dpi (740 px): shown at the book's
content width (688 px in Chromium at 1280 px) the numbers on the wires (10 pt)
are 12.9 px high; on a phone the frame shrinks to the screen.
"""
import numpy as np
from matplotlib.animation import FuncAnimation

from ._jshtml import _auto_prefix, _display, _freeze_layout, _new_figure, _png, jshtml

__all__ = ["CellPlayer"]


class CellPlayer:
    """Base class: ``step`` and ``unit`` sliders, the diagram of the current step, its animation.

    Subclasses set ``self.T``, ``self.H``, ``self._digest`` (a string that
    identifies the inputs) and ``self._order`` (the steps in playing order),
    implement ``_diagram(ax, t, unit)``, and call ``_build_player(unit, extra)``
    at the end of ``__init__`` (``extra``: widgets shown under the image).
    """

    figsize = (7.4, 4.0)
    dpi = 100
    name = "cell"          # prefix of the static form's element ids
    # the static form's text alternative; {first}, {last} and {unit} are filled in
    alt = ("Animation of the LSTM cell diagram, one frame per time step from t = {first} to "
           "t = {last}, with the numbers of unit {unit} on its wires.")

    # -- live widget -------------------------------------------------------
    def _build_player(self, unit, extra=()):
        import ipywidgets as W

        unit = self._check_unit(unit)
        self.sliders = {
            "step": W.IntSlider(value=self._order[0], min=0, max=self.T - 1, step=1,
                                description="step t"),
            "unit": W.IntSlider(value=unit, min=0, max=self.H - 1, step=1, description="unit",
                                disabled=self.H == 1),
        }
        self.play = W.Play(value=0, min=0, max=self.T - 1, step=1, interval=900,
                           description="play")
        # The Play counter k walks self._order (forwards or backwards in time).
        self.play.observe(lambda ch: setattr(self.sliders["step"], "value", self._order[ch.new]),
                          names="value")
        self.fig = _new_figure(self.figsize, self.dpi)
        self.ax = self.fig.add_subplot()
        self.diagram = self._diagram(self.ax, self._order[0], unit)
        _freeze_layout(self.fig)
        self.image = W.Image(format="png")
        self.ui = W.VBox([W.HBox([self.play, self.sliders["step"], self.sliders["unit"]]),
                          self.image, *extra])
        for w in self.sliders.values():
            w.observe(self._on_change, names="value")
        self.update()

    def _check_unit(self, unit):
        unit = int(unit)
        if not 0 <= unit < self.H:
            raise ValueError(f"unit must be in 0..{self.H - 1} (H = {self.H}), got {unit}")
        return unit

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

    @property
    def unit(self):
        """The unit shown on the diagram (0..H-1)."""
        return int(self.sliders["unit"].value)

    def _on_change(self, change):
        self.update()

    def update(self):
        """Redraw the diagram (and what a subclass adds) for the current step and unit."""
        self.ax.clear()
        self.diagram = self._diagram(self.ax, self.step, self.unit)
        self.image.value = _png(self.fig, self.dpi)
        self._update_extra()

    def _update_extra(self):
        pass

    def _ipython_display_(self):
        _display(self.ui)

    # -- static form -------------------------------------------------------
    def _default_steps(self, max_frames):
        order = list(self._order)
        if len(order) > max_frames:
            keep = np.unique(np.linspace(0, len(order) - 1, max_frames).round().astype(int))
            order = [order[k] for k in keep]
        return order

    def animation(self, steps=None, *, unit=None, max_frames=30, figsize=None, dpi=None):
        """A FuncAnimation with one frame per step: the cell diagram with that step's numbers.

        steps : the steps to show, in that order (default: all, in playing
            order, or ``max_frames`` evenly spaced ones when T is larger)
        unit : the unit shown (default: the current one)
        figsize, dpi : of the frames (default 7.4 x 4.0 inches at 100 dpi)
        """
        steps = self._default_steps(max_frames) if steps is None else [int(s) for s in steps]
        for s in steps:
            if not 0 <= s < self.T:
                raise ValueError(f"steps must be in 0..{self.T - 1}, got {s}")
        if not steps:
            raise ValueError("steps must not be empty")
        unit = self.unit if unit is None else self._check_unit(unit)
        fig = _new_figure(figsize or self.figsize, dpi or self.dpi)
        ax = fig.add_subplot()
        self._diagram(ax, steps[0], unit)
        _freeze_layout(fig)

        def draw(k):
            ax.clear()
            self._diagram(ax, steps[k], unit)
            return []

        anim = FuncAnimation(fig, draw, frames=len(steps), interval=1200, blit=False,
                             init_func=lambda: draw(0))
        anim._lstm_course_key = (steps, unit, figsize, dpi)
        return anim

    def to_jshtml(self, steps=None, *, id_prefix=None, fps=None, default_mode="once", **kw):
        """The static form as an HTML string (see :func:`jshtml`)."""
        anim = self.animation(steps, **kw)
        if id_prefix is None:
            id_prefix = _auto_prefix(self.name, self._digest, anim._lstm_course_key)
        steps_, unit = anim._lstm_course_key[0], anim._lstm_course_key[1]
        alt = self.alt.format(first=steps_[0], last=steps_[-1], unit=unit)
        return jshtml(anim, id_prefix, fps=fps, default_mode=default_mode, alt=alt)
