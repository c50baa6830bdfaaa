"""Interactive widgets for the notebooks, each with a static form for the book.

One module per widget, both built on the package's own forward and backward
passes, and a shared helper for their static forms:

``gradient_flow`` / ``GradientFlowExplorer`` (chapter 2; ``gradient_flow.py``)
    How large is the gradient of a loss at the *last* time step with respect to
    each earlier hidden state, ``||dL/dh_t||``? Sliders for the sequence length
    T, the recurrent weight scale, the forget-gate bias and the model (vanilla
    RNN or LSTM); a log-scale plot of the norms over t.

``GateStepper`` (chapters 4 and 5; ``gate_stepper.py``)
    Step (or play) through one sequence and watch x_t, the gates i, f, o, the
    candidate g, the cell state c_t and the output h_t on the wires of the
    LSTM cell diagram (one unit), with a table of every unit's numbers.

``BackwardStepper`` (chapter 6; ``backward_stepper.py``)
    Walk the gradient back through time, t = T-1 ... 0, on the cell diagram:
    the two error streams through h and c, and the error of each gate.

``CellExplorer`` (chapter 7; ``cell_explorer.py``)
    Colour a text by one memory cell's activation in a trained char-LSTM, and
    rank the cells by how well they follow a pattern (inside a stage direction,
    a speaker's name, the position in the line, ...), as LSTMVis does.

The two steppers are built on ``_cell_player.CellPlayer`` (the sliders, the image and the
animation of the diagram).

Live widgets need a running kernel. The built book has none, so each class
also renders a **static form** (with the helpers of ``_jshtml.py``): ``.animation(...)`` returns a
``matplotlib.animation.FuncAnimation`` and ``.to_jshtml(...)`` an HTML string
with a player (play, step, slider) that works in a plain browser. That HTML
loads nothing from the network (matplotlib's font-awesome stylesheet link is
removed; the book theme ships its own icons) and its element ids are
deterministic, so stored notebook outputs do not change from run to run.

In a notebook::

    from lstm_course.widgets import GradientFlowExplorer
    ex = GradientFlowExplorer(T=50)
    ex                                   # the live widget (needs a kernel)

    from IPython.display import HTML
    HTML(ex.to_jshtml("weight_scale"))   # the static form for the book

Widgets are testable without a browser: setting a slider's ``.value`` in
Python updates ``.norms`` (or ``.current()``) and the plot synchronously.
"""
from ._jshtml import jshtml
from .backward_stepper import BackwardStepper
from .cell_explorer import CellExplorer
from .gate_stepper import GATE_KEYS, GateStepper  # noqa: F401  (GATE_KEYS: the stepper's rows)
from .gradient_flow import (MODELS, GradientFlowExplorer, gradient_flow,  # noqa: F401
                            gradient_flow_setup, random_orthogonal)

__all__ = [
    "gradient_flow",
    "gradient_flow_setup",
    "GradientFlowExplorer",
    "GateStepper",
    "BackwardStepper",
    "CellExplorer",
    "jshtml",
    "random_orthogonal",
]
