"""Interactive widgets for the notebooks, each with a static form for the book.

Two explorers, both built on the package's own forward and backward passes:

``gradient_flow`` / ``GradientFlowExplorer`` (chapter 2)
    How large is the gradient of a loss at the *last* time step with respect to
    each earlier hidden state, ``||dL/dh_t||``? Sliders for the sequence length
    T, the recurrent weight scale, the forget-gate bias and the model (vanilla
    RNN or LSTM); a log-scale plot of the norms over t.

``GateStepper`` (chapter 4)
    Step (or play) through one sequence and watch x_t, the gates i, f, o, the
    candidate g, the cell state c_t and the output h_t, as bars and as a table
    of numbers.

Live widgets need a running kernel. The built book has none, so each class
also renders a **static form**: ``.animation(...)`` returns a
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
import hashlib
import io
import re

import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._validate import as_float_array, check_ndim, check_shape
from .lstm import lstm_step_backward, lstm_step_forward
from .rnn import rnn_step_backward, rnn_step_forward

__all__ = [
    "gradient_flow",
    "gradient_flow_setup",
    "GradientFlowExplorer",
    "GateStepper",
    "jshtml",
    "random_orthogonal",
]

MODELS = ("rnn", "lstm")
GATE_KEYS = ("x", "i", "f", "o", "g", "c", "h")


# ----------------------------------------------------------------------------
# static form helpers
# ----------------------------------------------------------------------------
_CDN_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?https?://[^>]*>", re.IGNORECASE | re.DOTALL)
_CDN_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?https?://[^>]*>\s*</script>", re.IGNORECASE | re.DOTALL
)
_MPL_ID = re.compile(r'id="_anim_img([0-9a-f]{32})"')


def _sanitize_id(id_prefix):
    """Make ``id_prefix`` usable in an HTML id *and* a JavaScript name (``anim{id}``)."""
    s = re.sub(r"\W", "_", str(id_prefix))
    return s if s else "anim"


def jshtml(anim, id_prefix="anim", *, fps=None, default_mode=None):
    """``anim.to_jshtml()`` made safe and stable for the built book.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
    id_prefix : str
        The player's element ids become ``f"{id_prefix}_0"`` instead of
        matplotlib's random ``uuid4().hex``, so the output is the same on
        every run (stable stored outputs for nbval). Use a different prefix
        for each animation on one page (e.g. ``"anim_ch2_0"``-style names are
        produced from ``"anim_ch2"``). Non-word characters become ``_``.
    fps, default_mode : passed to ``anim.to_jshtml`` (default_mode: "once",
        "loop" or "reflect").

    Returns
    -------
    str : self-contained HTML (frames embedded as PNG) with no link to a CDN:
        the font-awesome 4 ``<link rel="stylesheet" href="https://maxcdn...">``
        that matplotlib inserts is removed (as is any other external
        stylesheet or script).
    """
    html = anim.to_jshtml(fps=fps, default_mode=default_mode)
    html = _CDN_LINK.sub("", html)
    html = _CDN_SCRIPT.sub("", html)
    prefix = _sanitize_id(id_prefix)
    for k, uid in enumerate(dict.fromkeys(_MPL_ID.findall(html))):
        html = html.replace(uid, f"{prefix}_{k}")
    return html


def _auto_prefix(name, *parts):
    """A deterministic id prefix from the content (so distinct animations differ)."""
    h = hashlib.sha1(repr(parts).encode()).hexdigest()[:8]
    return f"{name}_{h}"


def _new_figure(figsize, dpi=100, layout="constrained"):
    """A figure that is NOT registered with pyplot.

    It never shows up as a stray static image at the end of a notebook cell
    (nothing to ``plt.close``) and renders with Agg whatever the backend.
    """
    fig = Figure(figsize=figsize, dpi=dpi, layout=layout)
    _QuietCanvas(fig)
    return fig


class _QuietCanvas(FigureCanvasAgg):
    """An Agg canvas whose ``draw_idle`` does nothing.

    Agg's ``draw_idle`` draws at once; an animation calls it after every
    frame and then draws the frame again to save it. We only ever need the
    saved PNGs, so this halves the time to make the static forms.
    """

    def draw_idle(self, *args, **kwargs):
        pass


def _freeze_layout(fig):
    """Run the constrained layout once, then keep the axes where they are.

    Re-running the layout on every frame is slow; the frames of our figures
    change data, not tick labels, so one layout fits all.
    """
    fig.canvas.draw()
    fig.set_layout_engine("none")


def _png(fig, dpi):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _display(obj):
    from IPython.display import display

    display(obj)


# ----------------------------------------------------------------------------
# gradient flow
# ----------------------------------------------------------------------------
def random_orthogonal(n, rng):
    """A random orthogonal (n, n) matrix (Haar distributed), from a numpy Generator.

    QR of a Gaussian matrix, with the signs of R's diagonal moved into Q so
    that the distribution is uniform over orthogonal matrices.
    """
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _check_model(model):
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    return model


def gradient_flow_setup(model="rnn", T=50, weight_scale=1.0, forget_bias=1.0, H=16, D=4,
                        seed=0, *, input_scale=0.1):
    """The seeded data and parameters behind :func:`gradient_flow`.

    Returns a dict with ``x`` (1, T, D), ``h0`` (1, H) (zeros), ``Wx``,
    ``Wh``, ``b`` (RNN: (D, H), (H, H), (H,); LSTM: (D, 4H), (H, 4H), (4H,))
    and ``u`` (H,), the unit vector of the loss L = u . h_{T-1}. Useful to
    reproduce the experiment with ``rnn_forward`` / ``lstm_forward``.
    """
    model = _check_model(model)
    T, H, D = int(T), int(H), int(D)
    if T < 1 or H < 1 or D < 1:
        raise ValueError(f"T, H and D must be >= 1, got T={T}, H={H}, D={D}")
    weight_scale, forget_bias, input_scale = float(weight_scale), float(forget_bias), \
        float(input_scale)
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(H)
    u /= np.linalg.norm(u)
    if model == "rnn":
        Wh = weight_scale * random_orthogonal(H, rng)
        Wx = input_scale * rng.standard_normal((D, H)) / np.sqrt(D)
        b = np.zeros(H)
    else:
        Wh = weight_scale * np.concatenate([random_orthogonal(H, rng) for _ in range(4)], axis=1)
        Wx = input_scale * rng.standard_normal((D, 4 * H)) / np.sqrt(D)
        b = np.zeros(4 * H)
        b[H:2 * H] = forget_bias  # the f block (gate order i, f, o, g)
    x = rng.standard_normal((1, T, D))
    return {"x": x, "h0": np.zeros((1, H)), "Wx": Wx, "Wh": Wh, "b": b, "u": u}


def gradient_flow(model="rnn", T=50, weight_scale=1.0, forget_bias=1.0, H=16, D=4, seed=0,
                  *, input_scale=0.1, return_cell=False):
    """How the gradient of a loss at the last step reaches earlier hidden states.

    The setup (everything seeded by ``seed``, so the result is deterministic;
    :func:`gradient_flow_setup` returns these arrays):

    * one sequence (N = 1) of T inputs x_t ~ N(0, 1) of size D, h_0 = c_0 = 0;
    * recurrent weights: a random orthogonal (H, H) matrix Q times
      ``weight_scale``. For the RNN ``Wh = weight_scale * Q``, so
      ``weight_scale`` is exactly the largest singular value (and the spectral
      radius) of Wh. For the LSTM, Wh (H, 4H) is four independent orthogonal
      blocks [Q_i | Q_f | Q_o | Q_g], all times ``weight_scale``;
    * input weights ``Wx ~ input_scale * N(0, 1/D)`` (default 0.1: small
      inputs keep the tanh units near their linear range, where the weight
      scale decides between vanishing and exploding; with larger inputs the
      units saturate, tanh' << 1, and the gradient vanishes even for
      ``weight_scale > 1``); biases zero, except that
      for the LSTM ``forget_bias`` is added to the f block of b (columns
      H:2H) — a large forget bias keeps f_t close to 1;
    * the loss depends on the LAST hidden state only: L = u . h_{T-1} for a
      fixed random unit vector u, so dL/dh_{T-1} = u has norm 1 and nothing
      else enters the backward pass.

    The backward pass is a loop of the package's step backward functions
    (``rnn_step_backward`` / ``lstm_step_backward``), reading the gradient
    ``dprev_h`` that flows from step t + 1 into h_t.

    Parameters
    ----------
    model : "rnn" or "lstm"
    T : int >= 1, number of time steps
    weight_scale : float, scale of the recurrent weights
    forget_bias : float, added to the forget-gate bias (LSTM only; ignored
        for the RNN)
    H, D : hidden and input size
    seed : int
    input_scale : float, keyword-only. ``input_scale=0`` makes the RNN
        linear in the backward pass (h_t = 0 for all t, tanh'(0) = 1), so the
        norms are exactly ``weight_scale ** (T - 1 - t)``.
    return_cell : bool, keyword-only. For the LSTM also return
        ``||dL/dc_t||`` (the error carried by the cell state).

    Returns
    -------
    norms : ndarray (T,), ``norms[t] = ||dL/dh_t||`` for t = 0..T-1 where
        ``h_t`` is ``h[:, t]`` of the forward pass (``norms[-1] == 1``).
        With ``return_cell=True`` and model "lstm": ``(norms_h, norms_c)``.
    """
    setup = gradient_flow_setup(model, T, weight_scale, forget_bias, H, D, seed,
                                input_scale=input_scale)
    x, Wx, Wh, b, u = (setup[k] for k in ("x", "Wx", "Wh", "b", "u"))
    T, H = x.shape[1], Wh.shape[0]

    # Forward: keep every step's cache.
    h = setup["h0"]
    c = np.zeros((1, H))
    caches = []
    for t in range(T):
        if model == "rnn":
            h, cache = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        else:
            h, c, cache = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        caches.append(cache)

    # Backward: dL/dh_{T-1} = u; then carry the gradient back one step at a time.
    norms = np.empty(T)
    norms_c = np.empty(T)
    dh = u[None, :].copy()
    dc = np.zeros((1, H))
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(dh)
        if model == "rnn":
            _, dh, _, _, _ = rnn_step_backward(dh, caches[t])
        else:
            # dc at t includes the part flowing through h_t = o * tanh(c_t).
            o, tanh_c = caches[t]["o"], caches[t]["tanh_c"]
            norms_c[t] = np.linalg.norm(dc + dh * o * (1 - tanh_c ** 2))
            _, dh, dc, _, _, _ = lstm_step_backward(dh, dc, caches[t])
    if return_cell and model == "lstm":
        return norms, norms_c
    return norms


# For the tanh RNN each step multiplies the gradient by diag(tanh') Wh^T, whose
# norm is at most weight_scale (Wh = weight_scale * orthogonal): a bound.
_BOUND_LABEL = r"linear RNN: $s^{T-1-t}$, s = weight_scale"


def _flow_title(model, T, weight_scale, forget_bias):
    s = f"{model.upper()}, T = {T}, weight_scale = {weight_scale:.2f}"
    if model == "lstm":
        s += f", forget_bias = {forget_bias:.1f}"
    return s


class GradientFlowExplorer:
    """Sliders for T, weight scale, forget bias and model; a log plot of ||dL/dh_t||.

    Parameters
    ----------
    T, weight_scale, forget_bias, model, seed : the initial values, passed to
        :func:`gradient_flow` (``H``, ``D`` and ``input_scale`` as keywords too).

    Attributes
    ----------
    sliders : dict name -> widget: ``"T"`` (IntSlider 5..200),
        ``"weight_scale"`` (FloatSlider 0.5..1.5), ``"forget_bias"``
        (FloatSlider -3..5, used by the LSTM only) and ``"model"`` (Dropdown
        "rnn" / "lstm").
    norms : ndarray (T,), the current ``gradient_flow(...)``; recomputed on
        every change of a widget value.
    fig, ax, line : the matplotlib Figure, Axes and Line2D of the plot.
    image : ipywidgets.Image showing the plot (a PNG re-rendered on change).
    ui : the container to display (``display(ex)`` or ``ex.ui``).

    Setting ``ex.sliders["weight_scale"].value = 1.2`` in Python updates
    ``ex.norms``, the line and the image synchronously.
    """

    figsize = (6.5, 3.6)
    dpi = 80

    def __init__(self, T=50, weight_scale=1.0, forget_bias=1.0, model="rnn", seed=0,
                 *, H=16, D=4, input_scale=0.1):
        import ipywidgets as W

        _check_model(model)
        self.seed, self.H, self.D, self.input_scale = seed, int(H), int(D), float(input_scale)
        style = {"description_width": "initial"}
        self.sliders = {
            "T": W.IntSlider(value=int(T), min=5, max=200, step=1, description="T",
                             continuous_update=False),
            "weight_scale": W.FloatSlider(value=float(weight_scale), min=0.5, max=1.5,
                                          step=0.05, description="weight_scale",
                                          continuous_update=False, style=style),
            "forget_bias": W.FloatSlider(value=float(forget_bias), min=-3.0, max=5.0,
                                         step=0.25, description="forget_bias (LSTM)",
                                         continuous_update=False, style=style),
            "model": W.Dropdown(options=list(MODELS), value=model, description="model"),
        }
        self.fig = _new_figure(self.figsize)
        self.ax = self.fig.add_subplot()
        (self.line,) = self.ax.plot([], [], marker=".", ms=3, lw=1.5, color="C0",
                                    label=r"$\|\partial L/\partial h_t\|$")
        (self.ref_line,) = self.ax.plot([], [], ls="--", lw=1, color="0.5",
                                        label=_BOUND_LABEL)
        self.ax.set_yscale("log")
        self.ax.set_xlabel("time step t (the loss is at t = T-1)")
        self.ax.set_ylabel(r"$\|\partial L/\partial h_t\|$")
        self.ax.grid(True, which="major", alpha=0.3)
        self.image = W.Image(format="png")
        self.status = W.HTML()
        self.ui = W.VBox([
            W.HBox([self.sliders["model"], self.sliders["T"]]),
            W.HBox([self.sliders["weight_scale"], self.sliders["forget_bias"]]),
            self.image,
            self.status,
        ])
        for w in self.sliders.values():
            w.observe(self._on_change, names="value")
        self.norms = None
        self.update()

    # -- state -------------------------------------------------------------
    @property
    def values(self):
        """The current widget values as a dict (keys as in ``sliders``)."""
        return {k: w.value for k, w in self.sliders.items()}

    def compute(self, model=None, T=None, weight_scale=None, forget_bias=None):
        """``gradient_flow`` for these values (None: the current widget value)."""
        v = self.values
        return gradient_flow(
            model=v["model"] if model is None else model,
            T=v["T"] if T is None else T,
            weight_scale=v["weight_scale"] if weight_scale is None else weight_scale,
            forget_bias=v["forget_bias"] if forget_bias is None else forget_bias,
            H=self.H, D=self.D, seed=self.seed, input_scale=self.input_scale,
        )

    def _on_change(self, change):
        self.update()

    def update(self):
        """Recompute ``.norms`` for the current widget values and redraw."""
        v = self.values
        self.norms = self.compute()
        self.sliders["forget_bias"].disabled = v["model"] != "lstm"
        self._draw(self.ax, self.line, self.ref_line, v, self.norms)
        self.ax.relim()
        self.ax.autoscale_view()
        self.image.value = _png(self.fig, self.dpi)
        self.status.value = (
            f"<code>||dL/dh_0|| = {self.norms[0]:.3g}</code>, "
            f"<code>||dL/dh_T-1|| = {self.norms[-1]:.3g}</code>"
        )

    @staticmethod
    def _draw(ax, line, ref_line, v, norms):
        T = len(norms)
        t = np.arange(T)
        line.set_data(t, norms)
        if v["model"] == "rnn":
            ref_line.set_data(t, float(v["weight_scale"]) ** (T - 1.0 - t))
            ref_line.set_visible(True)
        else:
            ref_line.set_data([], [])
            ref_line.set_visible(False)
        ax.set_title(_flow_title(v["model"], T, v["weight_scale"], v["forget_bias"]), fontsize=10)
        ax.legend(loc="best", fontsize=8)

    def _ipython_display_(self):
        _display(self.ui)

    # -- static form -------------------------------------------------------
    _DEFAULT_VALUES = {
        "weight_scale": np.round(np.linspace(0.5, 1.5, 11), 2),
        "forget_bias": np.arange(-3.0, 5.5, 1.0),
        "T": np.array([5, 10, 20, 50, 100, 200]),
        "model": np.array(MODELS),
    }

    def animation(self, param="weight_scale", values=None, *, figsize=(6, 3.5), dpi=None,
                  **fixed):
        """A FuncAnimation with one frame per value of ``param``.

        Parameters
        ----------
        param : "weight_scale", "forget_bias", "T" or "model"
        values : the values of ``param`` (default: 0.5..1.5 step 0.1 for the
            weight scale, -3..5 for the forget bias, 5..200 for T, both models).
            Keep it to about 20 frames so the HTML stays small.
        figsize, dpi : of the frames (default (6, 3.5) inches at 80 dpi).
        **fixed : values for the other parameters (default: the current
            widget values; for ``param="forget_bias"`` the model defaults to
            "lstm", the only model that has one).

        Each frame is the log plot of the norms with the value in the title;
        the y range is the same for all frames so they can be compared. The
        figure is not registered with pyplot (no stray static image).
        """
        if param not in self.sliders:
            raise ValueError(f"param must be one of {tuple(self.sliders)}, got {param!r}")
        unknown = set(fixed) - set(self.sliders)
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; expected some of "
                             f"{tuple(self.sliders)}")
        base = self.values
        if param == "forget_bias" and "model" not in fixed:
            base["model"] = "lstm"
        base.update(fixed)
        if values is None:
            values = self._DEFAULT_VALUES[param]
        values = list(values)
        if not values:
            raise ValueError("values must not be empty")
        frames = []
        for val in values:
            v = dict(base, **{param: val})
            v["model"] = _check_model(str(v["model"]))
            v["T"] = int(v["T"])
            v["weight_scale"] = float(v["weight_scale"])
            v["forget_bias"] = float(v["forget_bias"])
            frames.append((v, self.compute(**v)))

        fig = _new_figure(figsize, dpi=dpi or self.dpi)
        ax = fig.add_subplot()
        (line,) = ax.plot([], [], marker=".", ms=3, lw=1.5, color="C0",
                          label=r"$\|\partial L/\partial h_t\|$")
        (ref_line,) = ax.plot([], [], ls="--", lw=1, color="0.5",
                              label=_BOUND_LABEL)
        ax.set_yscale("log")
        ax.set_xlabel("time step t (the loss is at t = T-1)")
        ax.set_ylabel(r"$\|\partial L/\partial h_t\|$")
        ax.grid(True, which="major", alpha=0.3)
        all_norms = np.concatenate([n for _, n in frames])
        pos = all_norms[all_norms > 0]
        lo = max(pos.min() if pos.size else 1e-300, 1e-300)
        hi = pos.max() if pos.size else 1.0
        ax.set_ylim(lo / 3, hi * 3)
        ax.set_xlim(-0.5, max(len(n) for _, n in frames) - 0.5)
        self._draw(ax, line, ref_line, *frames[0])
        _freeze_layout(fig)

        def draw(k):
            v, n = frames[k]
            self._draw(ax, line, ref_line, v, n)
            return line, ref_line

        anim = FuncAnimation(fig, draw, frames=len(frames), interval=700, blit=False,
                             init_func=lambda: draw(0))
        anim._lstm_course_key = (param, [str(v) for v in values], sorted(base.items()),
                                 tuple(figsize), dpi)
        return anim

    def to_jshtml(self, param="weight_scale", values=None, *, id_prefix=None, fps=None,
                  default_mode="loop", figsize=(6, 3.5), dpi=None, **fixed):
        """The static form as an HTML string (see :func:`jshtml`).

        ``id_prefix`` defaults to ``"gradflow_"`` plus a hash of the content, so
        the same call gives the same string and different animations get
        different ids.
        """
        anim = self.animation(param, values, figsize=figsize, dpi=dpi, **fixed)
        if id_prefix is None:
            id_prefix = _auto_prefix("gradflow", anim._lstm_course_key, self.seed, self.H,
                                     self.D, self.input_scale)
        return jshtml(anim, id_prefix, fps=fps, default_mode=default_mode)


# ----------------------------------------------------------------------------
# gate stepper
# ----------------------------------------------------------------------------
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
