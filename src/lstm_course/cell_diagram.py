"""The LSTM cell, drawn by the package in the book's notation (re-exported as ``viz.draw_lstm_cell``).

One cell of unit ``unit``: x_t and h_{t-1} come in at the bottom left and feed
the four gates (f, i, g, o from left to right, so that each sits under what it
multiplies; the code's gate order is i, f, o, g); the cell-state line runs
across the top, c_{t-1} -> (times f) -> (plus i * g) -> c_t; c_t goes through
tanh and is multiplied by o to give h_t, which leaves to the right (step t+1)
and to the top (the output y_t).

``draw_lstm_cell(ax, values=cache)`` writes each wire's forward number on it;
``grads=dict(dnext_h=..., dnext_c=...)`` reverses the arrows and writes the
gradients, the width of a wire growing with |gradient|, so that dc_t's two
sources, dc_t^next from c_{t+1} (through f_{t+1}) and dh_t * o * (1 - tanh^2 c_t)
from h_t, are visible. The numbers come from ``cell_numbers``, which reads them
from ``lstm_step_forward`` / ``lstm_step_backward``. Colours: Okabe-Ito
(colour-blind safe), blue for negative and vermillion for positive numbers.
``describe_lstm_cell`` gives the same content as text, for alt text.
"""
from dataclasses import dataclass, field

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from .cell_numbers import VECTOR_WIRES, wire_gradients, wire_values

__all__ = ["draw_lstm_cell", "describe_lstm_cell", "CellDiagram", "HIGHLIGHTS"]

# Okabe-Ito colours.
POSITIVE, NEGATIVE = "#D55E00", "#0072B2"          # vermillion, blue
CELL_LINE, WIRE, GLOW = "#E69F00", "#444444", "#F0E442"   # orange, dark grey, yellow
BOX_FACE = "#f4f4f4"

# Named groups of wires for ``highlight``.
HIGHLIGHTS = {
    "cell_state": ("c_prev", "fc", "c", "c_next"),
    "dc_sources": ("c_next", "c_tanh", "p_o"),
    "gates": ("i", "f", "o", "g"),
    "h_path": ("h_prev", "x", "h"),
}

# ----------------------------------------------------------------------------
# geometry (data units; the Axes has an equal aspect)
# ----------------------------------------------------------------------------
Y_C, Y_MUL, Y_GATE, Y_BUS = 7.0, 5.0, 3.2, 1.0     # cell line, i*g and tanh, gates, input bus
X_GATE = {"f": 3.9, "i": 6.8, "g": 8.8, "o": 11.4}
X_PLUS, X_TANH, X_X, X_UP = 7.8, 14.6, 5.35, 18.7
X_IN, X_OUT = -0.2, 19.9
R = 0.32                       # radius of the pointwise nodes
GATE_W, GATE_H = 1.1, 0.8
Y_TOP = Y_GATE + GATE_H / 2           # the top of the gate boxes
Y_RUN = Y_TOP + 0.3                   # the peephole into i runs along here


def _routes(forget_gate, peepholes):
    """dict wire -> list of (x, y) points, in the direction of the FORWARD pass."""
    top, bottom = Y_GATE + GATE_H / 2, Y_GATE - GATE_H / 2
    xf, xi, xg, xo = (X_GATE[k] for k in "figo")
    r = {
        "x": [(X_X, -1.3), (X_X, Y_BUS)],
        "h_prev": [(X_IN, Y_BUS), (X_GATE["f"], Y_BUS)],
        "bus": [(X_GATE["f"], Y_BUS), (X_GATE["o"], Y_BUS)],
        "c_prev": [(X_IN, Y_C), ((xf if forget_gate else X_PLUS) - R, Y_C)],
        "i": [(xi, top), (xi, Y_MUL), (X_PLUS - R, Y_MUL)],
        "g": [(xg, top), (xg, Y_MUL), (X_PLUS + R, Y_MUL)],
        "ig": [(X_PLUS, Y_MUL + R), (X_PLUS, Y_C - R)],
        "c": [(X_PLUS + R, Y_C), (X_TANH, Y_C)],
        "c_next": [(X_TANH, Y_C), (X_OUT, Y_C)],
        "c_tanh": [(X_TANH, Y_C), (X_TANH, Y_MUL + R)],
        "tanh_c": [(X_TANH, Y_MUL - R), (X_TANH, Y_GATE + R)],
        "o": [(xo + GATE_W / 2, Y_GATE), (X_TANH - R, Y_GATE)],
        "h": [(X_TANH, Y_GATE - R), (X_TANH, Y_BUS), (X_OUT, Y_BUS)],
        "h_up": [(X_UP, Y_BUS), (X_UP, Y_C + 1.5)],
    }
    for k in "igo" + ("f" if forget_gate else ""):
        r["a_" + k] = [(X_GATE[k], Y_BUS), (X_GATE[k], bottom)]
    if forget_gate:
        r["f"] = [(xf, top), (xf, Y_C - R)]
        r["fc"] = [(xf + R, Y_C), (X_PLUS - R, Y_C)]
    if peepholes:
        xp = 3.0
        if forget_gate:
            r["p_f"] = [(xp, Y_C), (xp, Y_GATE), (xf - GATE_W / 2, Y_GATE)]
        r["p_i"] = [(xp, Y_C), (xp, Y_RUN), (xi - 0.3, Y_RUN), (xi - 0.3, top)]
        r["p_o"] = [(xo - 0.05, Y_C), (xo - 0.05, top)]
    return r


# Where each wire's label goes: (x, y, ha, va).
_ANCHORS = {
    "x": (X_X + 0.15, -1.25, "left", "bottom"),
    "h_prev": (X_IN + 0.05, Y_BUS - 0.15, "left", "top"),
    "c_prev": (X_IN + 0.05, Y_C + 0.15, "left", "bottom"),
    "f": (X_GATE["f"] + 0.12, (Y_MUL + Y_C) / 2 + 0.2, "left", "center"),
    "fc": ((X_GATE["f"] + X_PLUS) / 2, Y_C + 0.15, "center", "bottom"),
    "i": (X_GATE["i"] - 0.12, (Y_RUN + Y_MUL) / 2 + 0.1, "right", "center"),
    "g": (X_GATE["g"] + 0.12, (Y_TOP + Y_MUL) / 2, "left", "center"),
    "ig": (X_PLUS + 0.12, (Y_MUL + Y_C) / 2, "left", "center"),
    "c": (X_PLUS + 2.2, Y_C + 0.15, "center", "bottom"),
    "c_next": (X_UP - 0.15, Y_C + 0.15, "right", "bottom"),
    "c_tanh": (X_TANH + 0.12, (Y_MUL + Y_C) / 2, "left", "center"),
    "tanh_c": (X_TANH + 0.12, (Y_MUL + Y_GATE) / 2 + 0.2, "left", "center"),
    "o": ((X_GATE["o"] + X_TANH) / 2 + 0.1, Y_GATE + 0.15, "center", "bottom"),
    "h": (X_UP - 0.15, Y_BUS - 0.15, "right", "top"),
    "bus": None,
    "h_up": (X_UP + 0.12, Y_C + 1.2, "left", "center"),
    "a_i": (X_GATE["i"] + 0.1, (Y_BUS + Y_GATE - GATE_H / 2) / 2, "left", "center"),
    "a_f": (X_GATE["f"] + 0.1, (Y_BUS + Y_GATE - GATE_H / 2) / 2, "left", "center"),
    "a_o": (X_GATE["o"] + 0.1, (Y_BUS + Y_GATE - GATE_H / 2) / 2, "left", "center"),
    "a_g": (X_GATE["g"] + 0.1, (Y_BUS + Y_GATE - GATE_H / 2) / 2, "left", "center"),
    "p_i": (2.9, (Y_MUL + Y_C) / 2, "right", "center"),
    "p_f": (2.9, Y_GATE + 0.1, "right", "center"),
    "p_o": (X_GATE["o"] + 0.05, Y_C + 0.15, "left", "bottom"),
}

# The name of each wire's value, and of its gradient.
_SYMBOL = {
    "x": "$x_t$", "h_prev": "$h_{t-1}$", "c_prev": "$c_{t-1}$", "i": "$i$", "f": "$f$",
    "o": "$o$", "g": "$g$", "fc": r"$f \odot c_{t-1}$", "ig": r"$i \odot g$", "c": "$c_t$",
    "c_next": "$c_t$", "c_tanh": "", "tanh_c": r"$\tanh(c_t)$", "h": "$h_t$",
    "h_up": "$h_t$ (to $y_t$)", "a_i": "", "a_f": "", "a_o": "", "a_g": "",
    "p_i": "$p_i$", "p_f": "$p_f$", "p_o": "$p_o$",
}
_GRAD = {
    "x": r"$\delta x_t$", "h_prev": r"$\delta h_{t-1}$", "c_prev": r"$\delta c_{t-1}$",
    "i": r"$\delta i$", "f": r"$\delta f$", "o": r"$\delta o$", "g": r"$\delta g$",
    "fc": r"$\delta c_t$", "ig": r"$\delta c_t$", "c": r"$\delta c_t$",
    "c_next": r"from $c_{t+1}$", "c_tanh": r"from $h_t$", "tanh_c": r"$\delta \tanh c_t$",
    "h": r"$\delta h_t$", "a_i": r"$\delta a_i$", "a_f": r"$\delta a_f$",
    "a_o": r"$\delta a_o$", "a_g": r"$\delta a_g$",
    "p_i": r"$\delta a_i\, p_i$", "p_f": r"$\delta a_f\, p_f$", "p_o": r"$\delta a_o\, p_o$",
}


@dataclass
class CellDiagram:
    """What ``draw_lstm_cell`` drew.

    ax : the Axes
    wires : dict wire name -> FancyArrowPatch (see ``cell_numbers`` for the names)
    routes : dict wire name -> the wire's corner points (data units, in the
        direction of its arrow)
    value_texts, grad_texts : dict wire name -> the Text that shows the wire's
        forward value / gradient (gid ``"value:<wire>"`` / ``"grad:<wire>"``)
    values, grads : dict wire name -> the numbers shown (before rounding)
    alt_text : the diagram as text (``describe_lstm_cell``), for alt text
    """
    ax: object
    wires: dict = field(default_factory=dict)
    routes: dict = field(default_factory=dict)
    value_texts: dict = field(default_factory=dict)
    grad_texts: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    grads: dict = field(default_factory=dict)
    alt_text: str = ""


def _fmt(v, digits):
    """A number (or a short vector) as text, with a real minus sign."""
    if np.ndim(v) == 0:
        v = float(v) if abs(v) >= 0.5 * 10.0 ** -digits else 0.0   # no "-0.000"
        return f"{v:.{digits}f}".replace("-", "\u2212")
    v = np.asarray(v, dtype=float)
    v = np.where(np.abs(v) < 0.005, 0.0, v)                            # no "-0.00"
    shown = ", ".join(f"{e:.2f}".replace("-", "\u2212") for e in v[:3])
    return f"[{shown}{', …' if v.size > 3 else ''}]"


def _grad_inputs(grads, values):
    """(cache, dnext_h, dnext_c) from ``grads``; the cache from grads["cache"] or values."""
    if not isinstance(grads, dict) or "dnext_h" not in grads:
        raise ValueError("grads must be a dict with 'dnext_h' (N, H), optionally 'dnext_c' "
                         f"(N, H) and 'cache' (from lstm_step_forward), got {grads!r:.80}")
    cache = grads.get("cache", values)
    if cache is None:
        raise ValueError("grads needs the forward cache: pass values=cache or grads['cache']")
    return cache, grads["dnext_h"], grads.get("dnext_c")


def _check_variant(cache, forget_gate, peepholes):
    if cache["forget_gate"] != bool(forget_gate):
        raise ValueError(f"forget_gate={forget_gate} but the cache was computed with "
                         f"forget_gate={cache['forget_gate']}")
    if (cache["peepholes"] is not None) != bool(peepholes):
        raise ValueError(f"peepholes={peepholes} but the cache was computed "
                         f"{'with' if cache['peepholes'] is not None else 'without'} peepholes")


def _highlighted(highlight, names):
    if highlight is None:
        return set()
    chosen = [highlight] if isinstance(highlight, str) else list(highlight)
    out = set()
    for h in chosen:
        if h in HIGHLIGHTS:
            out.update(HIGHLIGHTS[h])
        elif h in names:
            out.add(h)
        else:
            raise ValueError(f"highlight {h!r} is neither a wire {sorted(names)} "
                             f"nor a group {sorted(HIGHLIGHTS)}")
    return out & set(names)


def _draw_nodes(ax, forget_gate, fs):
    """The cell's box, the four gates and the pointwise nodes (no numbers)."""
    ax.add_patch(FancyBboxPatch((1.1, -0.05), X_UP + 0.45 - 1.1, Y_C + 0.9, boxstyle="round,pad=0,rounding_size=0.4",
                                facecolor="#fbfbfb", edgecolor="#999999", lw=1.2, zorder=0))
    for k, x in X_GATE.items():
        if k == "f" and not forget_gate:
            continue
        ax.add_patch(FancyBboxPatch((x - GATE_W / 2, Y_GATE - GATE_H / 2), GATE_W, GATE_H,
                                    boxstyle="round,pad=0,rounding_size=0.12",
                                    facecolor=BOX_FACE, edgecolor=WIRE, lw=1.4, zorder=3))
        ax.text(x, Y_GATE, r"$\tanh$" if k == "g" else r"$\sigma$", ha="center", va="center",
                fontsize=fs, zorder=4)
    if not forget_gate:
        ax.text(X_GATE["f"], Y_C - 0.25, "no forget gate: f = 1", ha="center", va="top",
                fontsize=fs - 2, color="#666666", zorder=4)
    nodes = [((X_PLUS, Y_C), "+"), ((X_PLUS, Y_MUL), "×"), ((X_TANH, Y_GATE), "×")]
    if forget_gate:
        nodes.append(((X_GATE["f"], Y_C), "×"))
    for xy, sym in nodes:
        ax.add_patch(Circle(xy, R, facecolor="white", edgecolor=WIRE, lw=1.4, zorder=3))
        ax.text(*xy, r"$\odot$" if sym == "×" else "+", ha="center", va="center",
                fontsize=fs + (2 if sym == "+" else 1), zorder=4)
    ax.add_patch(FancyBboxPatch((X_TANH - 0.55, Y_MUL - R), 1.1, 2 * R,
                                boxstyle=f"round,pad=0,rounding_size={R}", facecolor="white",
                                edgecolor=WIRE, lw=1.4, zorder=3))
    ax.text(X_TANH, Y_MUL, r"$\tanh$", ha="center", va="center", fontsize=fs - 1, zorder=4)
    for xy in ((X_X, Y_BUS), (X_GATE["f"], Y_BUS), (X_TANH, Y_C), (X_UP, Y_BUS)):
        ax.add_patch(Circle(xy, 0.07, color=WIRE, zorder=3))


def _colour(v, digits):
    """Vermillion for a positive number, blue for a negative one, grey for one shown as 0."""
    if v is None or np.ndim(v) > 0 or abs(v) < 0.5 * 10.0 ** -digits:
        return WIRE
    return POSITIVE if v > 0 else NEGATIVE


def _wire_style(v, scale, is_cell_line, digits):
    """(colour, line width) of a wire carrying the number v (None: no number)."""
    if v is None or np.ndim(v) > 0:
        return (CELL_LINE if is_cell_line else WIRE), 3.0 if is_cell_line else 1.4
    return _colour(v, digits), 1.0 + 5.0 * min(1.0, abs(v) / scale)


def draw_lstm_cell(ax=None, *, forget_gate=True, peepholes=False, values=None, grads=None,
                   highlight=None, unit=0, n=0, digits=3, fontsize=12, title=True):
    """Draw one LSTM cell in the book's notation, with its numbers on the wires.

    Parameters
    ----------
    ax : Axes or None (a new figure of 7.4 x 4.0 inches)
    forget_gate : False draws the 1997 cell (no forget gate: c_t = c_{t-1} + i * g)
    peepholes : True adds the peephole wires (i and f look at c_{t-1}, o at c_t)
    values : None, or the cache of ``lstm_step_forward`` (arrays (N, H)): each
        wire shows its forward number for example ``n`` and unit ``unit``
        (x_t and h_{t-1} show their vectors), in colour (blue < 0 < vermillion)
    grads : None, or dict(dnext_h=(N, H), dnext_c=(N, H) or absent, cache=...):
        the upstream gradients of ``lstm_step_backward`` (the cache defaults to
        ``values``). The arrows then point backwards, their width grows with
        |gradient|, and each wire shows the gradient of the loss w.r.t. its value.
    highlight : None, a wire name, a group of ``HIGHLIGHTS`` ("cell_state",
        "dc_sources", "gates", "h_path"), or a list of them: drawn with a glow
    unit, n : the unit (0..H-1) and the example (row) shown; said in the title
    digits : decimals of the numbers on the wires
    fontsize : of the nodes (points); the numbers are 2 points smaller. At
        7.4 inches wide (740 px at 100 dpi) shown at the book's 672 px, 10 points are 12.6 px
    title : True (a title stating the variant and the unit), a string, or False

    Returns
    -------
    CellDiagram (ax, wires, value_texts, grad_texts, values, grads, alt_text).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.4, 4.0), layout="constrained")
    shown_v = shown_g = {}
    if values is not None:
        shown_v = wire_values(values, n, unit)
        _check_variant(values, forget_gate, peepholes)
    if grads is not None:
        cache, dnext_h, dnext_c = _grad_inputs(grads, values)
        shown_g = wire_gradients(cache, dnext_h, dnext_c, n, unit)
        _check_variant(cache, forget_gate, peepholes)
    routes = _routes(forget_gate, peepholes)
    glow = _highlighted(highlight, routes)
    diagram = CellDiagram(ax=ax, values=shown_v, grads=shown_g)
    fs = fontsize
    _draw_nodes(ax, forget_gate, fs)

    numbers = shown_g if grads is not None else shown_v
    scalars = [abs(v) for k, v in numbers.items() if np.ndim(v) == 0 and not k.startswith("p_")]
    scale = max(scalars) if grads is not None and scalars else max([1.0] + scalars)
    for name, points in routes.items():
        is_cell_line = name in HIGHLIGHTS["cell_state"]
        v = numbers.get(name) if not (grads is None and name.startswith("p_")) else None
        colour, lw = _wire_style(v, scale, is_cell_line, digits)
        if grads is not None:
            points = points[::-1]                  # the error flows backwards
        dashed = name.startswith("p_")
        arrow = name != "bus" and (grads is not None or name not in ("c", "h_prev"))
        patch = FancyArrowPatch(path=Path(points), arrowstyle="-|>" if arrow else "-",
                                mutation_scale=9 + 1.2 * lw, color=colour, lw=lw,
                                ls="--" if dashed else "-", shrinkA=0, shrinkB=0,
                                capstyle="butt", joinstyle="miter", zorder=2)
        ax.add_patch(patch)
        diagram.wires[name], diagram.routes[name] = patch, points
        if name in glow:
            ax.add_patch(FancyArrowPatch(path=Path(points), arrowstyle="-", color=GLOW,
                                         lw=lw + 9, alpha=0.8, zorder=1, capstyle="round"))
        _label(ax, diagram, name, shown_v, shown_g, fs, digits)

    _title(ax, title, forget_gate, peepholes, values if values is not None else
           (grads or {}).get("cache"), unit, n, fs, grads is not None)
    ax.set_xlim(X_IN - 0.3, X_OUT + 0.3)
    ax.set_ylim(-1.5, Y_C + 1.75)
    ax.set_aspect("equal")
    ax.axis("off")
    diagram.alt_text = describe_lstm_cell(forget_gate=forget_gate, peepholes=peepholes,
                                          values=shown_v or None, grads=shown_g or None,
                                          unit=unit, digits=digits)
    return diagram


def _label(ax, diagram, name, shown_v, shown_g, fs, digits):
    """The label of one wire: its symbol, and its value and gradient when known."""
    if _ANCHORS.get(name) is None:
        return
    x, y, ha, va = _ANCHORS[name]
    box = dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.9)
    # Crowded wires (the gates' inputs, the peepholes) put the number under its name.
    sep = " =\n" if name.startswith(("a_", "p_")) else " = "
    lines = []
    if name in shown_v and not (name.startswith("p_") and shown_g):   # p: a weight, not a wire value
        lines.append(("value", f"{_SYMBOL[name] or _SYMBOL['c']}{sep}{_fmt(shown_v[name], digits)}",
                      shown_v[name]))
    elif _SYMBOL[name] and not shown_g:
        lines.append(("label", _SYMBOL[name], None))
    elif name == "h_up":
        lines.append(("label", "from $y_t$", None))
    if name in shown_g:
        lines.append(("grad", f"{_GRAD[name]}{sep}{_fmt(shown_g[name], digits)}", shown_g[name]))
    if not lines:
        return
    # Stack the lines, the first on top, away from the wire.
    step, m = 1.45 * (fs - 2), len(lines)         # points: one line and its box's padding
    for k, (kind, text, v) in enumerate(lines):
        dy = {"bottom": m - 1 - k, "top": -k, "center": (m - 1) / 2 - k}[va] * step
        t = ax.annotate(text, (x, y), xytext=(0, dy), textcoords="offset points", ha=ha, va=va,
                        fontsize=fs - 2, color=_colour(v, digits), bbox=box, zorder=5,
                        gid=f"{kind}:{name}")
        if kind == "value":
            diagram.value_texts[name] = t
        elif kind == "grad":
            diagram.grad_texts[name] = t


def _title(ax, title, forget_gate, peepholes, cache, unit, n, fs, backward):
    if title is False or title is None:
        return
    if title is True:
        kind = "1997 LSTM cell (no forget gate)" if not forget_gate else \
            "LSTM cell with peepholes" if peepholes else "LSTM cell"
        if cache is not None:
            N, H = cache["prev_c"].shape
            kind += f", unit {unit} of H = {H}" + (f", example {n}" if N > 1 else "")
        title = kind + (": the backward pass" if backward else "")
    ax.set_title(title, fontsize=fs + 1)


def describe_lstm_cell(*, forget_gate=True, peepholes=False, values=None, grads=None, unit=0,
                       digits=3):
    """The cell diagram as text (its alt text): the structure, then the numbers shown.

    ``values`` / ``grads``: dicts wire name -> number, as from ``cell_numbers``
    (``CellDiagram.values`` / ``.grads``), or None.
    """
    parts = ["An LSTM cell" + (" without a forget gate (the 1997 LSTM)" if not forget_gate else "")
             + (" with peephole connections" if peepholes else "") + ".",
             "The inputs x_t and h_{t-1} enter at the bottom left and feed every gate: "
             "the input gate i, " + ("the forget gate f, " if forget_gate else "")
             + "the output gate o (sigmoids) and the candidate g (tanh).",
             "The cell state runs along the top: c_{t-1} "
             + ("is multiplied by f, then " if forget_gate else "passes unchanged (f = 1), then ")
             + "i ⊙ g is added, giving c_t, which leaves to the next step.",
             "c_t also goes through tanh and is multiplied by o: h_t = o ⊙ tanh(c_t), "
             "which leaves to the next step and to the output y_t."]
    if peepholes:
        parts.append("Dashed peephole wires: i" + (" and f look" if forget_gate else " looks")
                     + " at c_{t-1}, o looks at the new c_t.")
    if values:
        names = [("c_prev", "c_{t-1}"), ("i", "i"), ("f", "f"), ("o", "o"), ("g", "g"),
                 ("c", "c_t"), ("tanh_c", "tanh(c_t)"), ("h", "h_t")]
        nums = ", ".join(f"{label} = {_fmt(values[k], digits)}" for k, label in names if k in values)
        parts.append(f"Forward values of unit {unit}: {nums}.")
    if grads:
        g = {k: _fmt(v, digits) for k, v in grads.items()}
        text = (f"Backward pass, unit {unit}: dh_t = {g['h']}; dc_t = {g['c']}, the sum of "
                f"{g['c_next']} from c_{{t+1}} (through f_{{t+1}}) and {g['c_tanh']} from h_t "
                f"(through o ⊙ (1 − tanh²(c_t)))" + (f" and {g['p_o']} through o's peephole"
                                                      if "p_o" in g else "")
                + f"; the gates' errors do = {g['o']}, di = {g['i']}, dg = {g['g']}"
                + (f", df = {g['f']}" if "f" in g else "")
                + f"; dc_{{t-1}} = {g['c_prev']}.")
        parts.append(text)
    return " ".join(parts)
