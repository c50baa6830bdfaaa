"""The cell explorer (chapter 7): what does one memory cell of a trained char-LSTM track?

Karpathy, Johnson & Fei-Fei (2015) coloured a text by the activation of one
cell and found cells that follow quotes or the position in a line; LSTMVis
(Strobelt et al. 2018) lets a reader pick a pattern and ranks the cells that
follow it. This module does both, measured rather than judged by eye:

``cell_activations(model, ids)``
    tanh(c_t) (or h_t) of every cell after each character: (len(ids), H).
``text_patterns(text)``
    Patterns a cell might follow, each one number per character: inside a
    [stage direction], inside "quotes", inside a speaker's name (a line like
    "CASSIUS."), the position in the line, inside a word.
``rank_cells(acts, pattern)``
    The cells sorted by how well they follow the pattern: Pearson's correlation
    r between the cell's activation and the pattern over the characters.
``CellExplorer``
    Live in JupyterLab (two dropdowns: the pattern, and a cell among the best
    ranked; the text recoloured by the kernel) and ``.to_html()``, a
    self-contained HTML explorer for the built book (no kernel, no network: the
    activations of the top cells are embedded, a few lines of JavaScript
    recolour the text).

Colours: blue for negative activations, white for 0, orange for positive (a
diverging scale that colour-blind readers can tell apart); the exact value of
each character is in its tooltip.
"""
import base64
import html
import json
import re

import numpy as np

from ..layers import one_hot
from ..lstm_fast import lstm_forward, lstm_states

__all__ = ["cell_activations", "text_patterns", "rank_cells", "CellExplorer", "PATTERNS"]

PATTERNS = {
    "stage direction": "inside a [stage direction], brackets included",
    "quote": 'inside "double quotes" (paired within a speech), the quote marks included',
    "speaker name": 'inside a speaker\'s name: a line of capitals ending in a full stop, such as '
                    '"CASSIUS." (not the ACT and SCENE headings)',
    "position in line": "the character's position in its line (0 at the start of the line)",
    "word": "a letter (inside a word), as opposed to spaces, punctuation and line ends",
    "capital": "a capital letter (speaker names are written in capitals, but not only they)",
}


def cell_activations(model, ids, *, what="c", layer=0, n_streams=1):
    """Run ``model`` (a one-layer CharLSTM, or layer ``layer`` of a stack) over ``ids``.

    ids        1-D ints: the text as character ids
    what       "c": tanh(c_t), the cell state squashed to (-1, 1) as the output sees it;
               "h": h_t = o_t * tanh(c_t)
    n_streams  cut the text into this many parts run side by side (faster; each
               part starts from the zero state)

    Returns (n_streams * (len(ids) // n_streams), H) float64: row k is the state
    after reading ids[k].
    """
    if what not in ("c", "h"):
        raise ValueError(f"what must be 'c' or 'h', got {what!r}")
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < n_streams:
        raise ValueError(f"ids has shape {ids.shape}; expected a 1-D array of at least {n_streams} ids")
    if not 0 <= layer < model.num_layers:
        raise ValueError(f"layer must be in [0, {model.num_layers}), got {layer}")
    L = len(ids) // n_streams
    x = one_hot(ids[:n_streams * L].reshape(n_streams, L), model.V, dtype=model.dtype)
    p = model.parameters
    for l in range(layer + 1):
        h0 = np.zeros((n_streams, model.H), dtype=model.dtype)
        x, cache = lstm_forward(x, h0, p[f"Wx{l}"], p[f"Wh{l}"], p[f"b{l}"])
    states = lstm_states(cache)
    acts = np.tanh(states["c"]) if what == "c" else states["h"]
    return acts.reshape(n_streams * L, model.H).astype(np.float64)


def _between(text, open_re, close_char):
    """1.0 for the characters from an opening match to the next close_char (inclusive)."""
    mask = np.zeros(len(text))
    for m in re.finditer(open_re, text):
        end = text.find(close_char, m.end())
        end = len(text) - 1 if end < 0 else end
        mask[m.start():end + 1] = 1.0
    return mask


def text_patterns(text):
    """The patterns of ``PATTERNS`` for ``text``: dict name -> (len(text),) float array."""
    n = len(text)
    quote = np.zeros(n)
    for para in re.finditer(r"(?s).+?(?:\n\n|$)", text):   # quotes pair up within a speech
        marks = [para.start() + k for k, ch in enumerate(para.group(0)) if ch == '"']
        for a, b in zip(marks[0::2], marks[1::2]):
            quote[a:b + 1] = 1.0
    speaker = np.zeros(n)
    for m in re.finditer(r"(?m)^(?!ACT |SCENE )[A-Z][A-Z' -]*\.$", text):
        speaker[m.start():m.end()] = 1.0
    position = np.zeros(n)
    col = 0
    for k, ch in enumerate(text):
        position[k] = col
        col = 0 if ch == "\n" else col + 1
    word = np.array([ch.isalpha() for ch in text], dtype=float)
    capital = np.array([ch.isupper() for ch in text], dtype=float)
    return {"stage direction": _between(text, r"\[", "]"), "quote": quote, "speaker name": speaker,
            "position in line": position, "word": word, "capital": capital}


def rank_cells(acts, pattern):
    """Cells sorted by |r|, Pearson's correlation of each cell's activation with ``pattern``.

    acts (n, H), pattern (n,). Returns ``(order, r)``: ``order`` the H cell indices,
    best first; ``r`` (H,) the correlation of every cell (a constant cell gets r = 0).
    """
    acts, pattern = np.asarray(acts, dtype=float), np.asarray(pattern, dtype=float)
    if acts.ndim != 2 or pattern.shape != (acts.shape[0],):
        raise ValueError(f"acts has shape {acts.shape} and pattern {pattern.shape}; "
                         "expected (n, H) and (n,)")
    a = acts - acts.mean(axis=0)
    p = pattern - pattern.mean()
    denom = np.sqrt((a ** 2).sum(axis=0) * (p ** 2).sum())
    r = np.divide(a.T @ p, denom, out=np.zeros(acts.shape[1]), where=denom > 0)
    return np.argsort(-np.abs(r), kind="stable"), r


def _colour(v):
    """A diverging colour for v in [-1, 1]: blue (-1), white (0), orange (+1)."""
    v = float(np.clip(v, -1, 1))
    end = (33, 102, 172) if v < 0 else (230, 97, 1)
    rgb = [round(255 + abs(v) * (e - 255)) for e in end]
    return "#%02x%02x%02x" % tuple(rgb)


UNDERLINE = "underline 2px #000"


def _spans(text, values, marks=None):
    """The text as HTML spans, each coloured by its value (tooltip: the value); the
    characters where ``marks`` is 1 are underlined (the pattern, under the cell)."""
    out = []
    for k, (ch, v) in enumerate(zip(text, values)):
        esc = "<br>" if ch == "\n" else ("&nbsp;" if ch == " " else html.escape(ch))
        line = f";text-decoration:{UNDERLINE}" if marks is not None and marks[k] == 1 else ""
        out.append(f'<span style="background:{_colour(v)}{line}" title="{v:+.2f}">{esc}</span>')
    return "".join(out)


def _marks(pattern):
    """A 0/1 pattern as itself, anything else (a position, a count) as None: only on/off
    patterns are underlined."""
    pattern = np.asarray(pattern)
    return pattern if np.isin(pattern, (0, 1)).all() else None


class CellExplorer:
    """Explore the cells of a trained model on a piece of text.

    CellExplorer(text, acts, patterns=None, *, measure_acts=None, measure_patterns=None, top=5)

    text      the text shown (a str of n characters)
    acts      (n, H) activations on that text (``cell_activations``)
    patterns  dict name -> (n,) pattern on that text (default ``text_patterns(text)``)
    measure_acts, measure_patterns
              where the ranking is measured (default: the shown text itself); pass a
              longer text's activations and patterns to rank on more characters
    top       how many cells per pattern are offered

    Attributes: ``ranking`` (dict pattern -> list of (cell, r)); the live widget
    (``.widget``, shown when the explorer is the last value of a cell) has
    ``.pattern`` and ``.cell`` dropdowns whose ``.value`` can also be set from code.
    """

    def __init__(self, text, acts, patterns=None, *, measure_acts=None, measure_patterns=None, top=5):
        acts = np.asarray(acts, dtype=float)
        if acts.ndim != 2 or acts.shape[0] != len(text):
            raise ValueError(f"acts has shape {acts.shape}; expected ({len(text)}, H), one row per character")
        self.text, self.acts = text, acts
        patterns = text_patterns(text) if patterns is None else patterns
        self.patterns = patterns
        measure_acts = acts if measure_acts is None else np.asarray(measure_acts, dtype=float)
        measure_patterns = patterns if measure_patterns is None else measure_patterns
        self.ranking = {}
        for name in patterns:
            order, r = rank_cells(measure_acts, measure_patterns[name])
            self.ranking[name] = [(int(j), float(r[j])) for j in order[:top]]
        self._widget = None

    # -- live --------------------------------------------------------------------

    LEGEND = ("Blue: negative, white: 0, orange: positive activation (tanh of the cell state); "
              "underlined: where the pattern is on; hover a character for its value.")

    def _render(self, cell, pattern=None):
        marks = _marks(self.patterns[pattern]) if pattern is not None else None
        return (f'<div style="font-family:monospace;font-size:13px;line-height:1.7;'
                f'max-height:24em;overflow-y:auto">{_spans(self.text, self.acts[:, cell], marks)}</div>'
                f'<p style="font-size:0.9em">{self.LEGEND}</p>')

    @property
    def widget(self):
        if self._widget is None:
            import ipywidgets as W

            self.pattern = W.Dropdown(options=list(self.ranking), description="pattern")
            self.cell = W.Dropdown(description="cell")
            self.view = W.HTML()

            def on_pattern(change=None):
                self.cell.options = [(f"cell {j} (r = {r:+.2f})", j) for j, r in self.ranking[self.pattern.value]]
                self.cell.value = self.ranking[self.pattern.value][0][0]

            def on_cell(change=None):
                if self.cell.value is not None:
                    self.view.value = self._render(self.cell.value, self.pattern.value)

            self.pattern.observe(on_pattern, names="value")
            self.cell.observe(on_cell, names="value")
            on_pattern()
            on_cell()
            self._widget = W.VBox([W.HBox([self.pattern, self.cell]), self.view])
        return self._widget

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    # -- static ------------------------------------------------------------------

    def to_html(self, id_prefix="cellx"):
        """A self-contained explorer for the built book: no kernel, nothing from the network.

        The activations of the offered cells are embedded (rounded to 1/127, as
        int8 in base64); a few lines of JavaScript recolour the text when the
        reader picks a pattern or a cell. Element ids start with ``id_prefix``.
        """
        pid = re.sub(r"\W", "_", id_prefix)
        cells = sorted({j for ranked in self.ranking.values() for j, _ in ranked})
        q = np.round(np.clip(self.acts[:, cells], -1, 1) * 127).astype(np.int8)
        marks = {k: "".join("1" if m else "0" for m in _marks(v)) for k, v in self.patterns.items()
                 if k in self.ranking and _marks(v) is not None}
        data = {"cells": cells, "n": len(self.text), "marks": marks,
                "acts": base64.b64encode(q.T.tobytes()).decode("ascii"),
                "ranking": {k: [[j, round(r, 3)] for j, r in v] for k, v in self.ranking.items()}}
        options = "".join(f'<option value="{html.escape(k)}">{html.escape(k)}</option>' for k in self.ranking)
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(PATTERNS.get(k, ''))}</td><td>"
            + ", ".join(f"{j} ({r:+.2f})" for j, r in v) + "</td></tr>" for k, v in self.ranking.items())
        first_pattern = next(iter(self.ranking))
        first = self.ranking[first_pattern][0][0]
        return f"""<div class="cell-explorer" id="{pid}" style="text-align:left">
<div class="cx-controls" style="display:flex;flex-wrap:wrap;gap:0.5em 1em;align-items:center;margin-bottom:0.5em">
<label for="{pid}_pattern">pattern</label> <select id="{pid}_pattern">{options}</select>
<span role="group" aria-label="the best cells for this pattern" id="{pid}_cells"></span>
</div>
<p id="{pid}_status" aria-live="polite" style="margin:0.25em 0">cell {first}</p>
<div id="{pid}_text" tabindex="0" role="region" aria-label="the text, coloured by the chosen cell" style="font-family:monospace;font-size:13px;line-height:1.7;max-height:24em;overflow:auto;border:1px solid #ccc;padding:0.4em">{_spans(self.text, self.acts[:, first], _marks(self.patterns[first_pattern]))}</div>
<p style="font-size:0.9em">{self.LEGEND}</p>
<table class="cx-ranking"><caption>The cells that follow each pattern best (Pearson's r)</caption>
<thead><tr><th>pattern</th><th>what it marks</th><th>best cells (r)</th></tr></thead><tbody>{rows}</tbody></table>
<script>
(function() {{
  const D = {json.dumps(data)};
  const raw = atob(D.acts), n = D.n, acts = {{}};
  D.cells.forEach((c, k) => {{
    const a = new Float32Array(n);
    for (let t = 0; t < n; t++) {{ let b = raw.charCodeAt(k * n + t); if (b > 127) b -= 256; a[t] = b / 127; }}
    acts[c] = a;
  }});
  const root = document.getElementById("{pid}");
  const spans = root.querySelectorAll("#{pid}_text span");
  const sel = document.getElementById("{pid}_pattern"), box = document.getElementById("{pid}_cells");
  const status = document.getElementById("{pid}_status");
  function colour(v) {{
    const e = v < 0 ? [33, 102, 172] : [230, 97, 1], a = Math.min(1, Math.abs(v));
    return "rgb(" + e.map(x => Math.round(255 + a * (x - 255))).join(",") + ")";
  }}
  function show(cell, r) {{
    const a = acts[cell], m = D.marks[sel.value];
    spans.forEach((s, t) => {{
      s.style.background = colour(a[t]); s.title = (a[t] >= 0 ? "+" : "") + a[t].toFixed(2);
      s.style.textDecoration = m && m[t] === "1" ? "{UNDERLINE}" : "none";
    }});
    box.querySelectorAll("button").forEach(b => b.setAttribute("aria-pressed", b.dataset.cell == cell));
    status.textContent = "cell " + cell + " (r = " + (r >= 0 ? "+" : "") + r.toFixed(2) + " with \\u201c" + sel.value + "\\u201d)";
  }}
  function pattern() {{
    box.innerHTML = "";
    D.ranking[sel.value].forEach(([c, r]) => {{
      const b = document.createElement("button");
      b.type = "button"; b.dataset.cell = c; b.textContent = "cell " + c + " (" + (r >= 0 ? "+" : "") + r.toFixed(2) + ")";
      b.onclick = () => show(c, r);
      box.appendChild(b);
    }});
    const [c, r] = D.ranking[sel.value][0];
    show(c, r);
  }}
  sel.onchange = pattern;
  pattern();
}})();
</script>
</div>"""
