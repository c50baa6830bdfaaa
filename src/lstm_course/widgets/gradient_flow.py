"""The gradient-flow explorer (chapter 2): how ||dL/dh_t|| decays or grows over t.

``gradient_flow`` computes the norms with the package's own step functions;
``GradientFlowExplorer`` puts sliders (T, weight scale, forget bias, model) on
it, and ``.to_jshtml(...)`` renders the static form for the book.
"""
import numpy as np
from matplotlib.animation import FuncAnimation

from ..lstm import lstm_step_backward, lstm_step_forward
from ..rnn import rnn_step_backward, rnn_step_forward
from ._jshtml import _auto_prefix, _display, _freeze_layout, _new_figure, _png, jshtml

__all__ = ["gradient_flow", "gradient_flow_setup", "GradientFlowExplorer", "random_orthogonal", "MODELS"]

MODELS = ("rnn", "lstm")

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
    dpi = 100      # 10-point text is 14 px; the frames are no wider than the book (650 px)

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
        # Only the lines that are drawn: the linear-RNN bound is hidden for the LSTM.
        shown = [ln for ln in (line, ref_line) if ln.get_visible()]
        ax.legend(handles=shown, loc="best", fontsize=9)

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
        figsize, dpi : of the frames (default (6, 3.5) inches at 100 dpi).
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
        shown = list(anim._lstm_course_key[1])
        alt = (f"Animation of the gradient norm against the distance from the loss, on a log "
               f"scale, one frame per value of {param} from {shown[0]} to {shown[-1]}.")
        return jshtml(anim, id_prefix, fps=fps, default_mode=default_mode, alt=alt)
