"""Character-level language models: CharRNN and CharLSTM (chapter 7).

Both models read a batch of character sequences and predict, at every time
step, the next character::

    inputs (N, T) ints --one-hot--> x (N, T, V)
        --> layer 0 (RNN or LSTM) --> h (N, T, H)
        --> layer 1 ...           --> h (N, T, H)        (num_layers layers)
        --> temporal affine Wy (H, V), by (V,) --> scores (N, T, V)
        --> softmax cross-entropy with targets (N, T), averaged over N*T

One-hot input times Wx0 simply selects a row of Wx0: it is an embedding
lookup (see ``layers.one_hot``), written the simplest way.

Parameters live in the dict ``model.parameters`` (name -> array)::

    CharRNN:  Wx0 (V, H),  Wh0 (H, H),  b0 (H,),   Wx1 (H, H), ...   Wy (H, V), by (V,)
    CharLSTM: Wx0 (V, 4H), Wh0 (H, 4H), b0 (4H,),  Wx1 (H, 4H), ...  Wy (H, V), by (V,)

``loss_and_grads`` returns gradients in a dict with the *same keys*, so an
optimiser can do ``for k in params: params[k] -= lr * grads[k]``.

Truncated BPTT. A long text is cut into chunks of T characters. The state at
the end of one chunk (``state`` returned by ``loss_and_grads``) is passed as
the starting state of the next chunk, so the *forward* pass sees the text as
one continuous stream. The *gradient*, however, stops at the chunk boundary:
the incoming state is treated as a constant, so no error flows back into the
previous chunk (its gradient is computed and thrown away). Dependencies longer
than T steps can still be *used*, but are not directly *learned*.
"""
import numpy as np

from ._validate import check_shape
from .layers import (
    _check_indices,
    one_hot,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)
from . import model_file
from .lstm import lstm_step_forward
from .lstm_fast import Workspace, lstm_backward, lstm_final_state, lstm_forward
from .rnn import rnn_backward, rnn_forward, rnn_step_forward

__all__ = ["CharRNN", "CharLSTM"]


class _CharModel:
    """What CharRNN and CharLSTM share: parameters, output layer, loss, sampling.

    A subclass says how many weight blocks a layer has (``gates``: 1 for the
    RNN, 4 for the LSTM) and how one layer runs forward and backward.
    """

    gates = 1

    def __init__(self, V, H, num_layers=1, seed=0, dtype=np.float64):
        if int(V) < 1 or int(H) < 1 or int(num_layers) < 1:
            raise ValueError(f"V, H and num_layers must be >= 1, got V={V}, H={H}, num_layers={num_layers}")
        self.V, self.H, self.num_layers = int(V), int(H), int(num_layers)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a floating type (float32 or float64), got {self.dtype}")
        rng = np.random.default_rng(seed)
        G = self.gates

        def randn(*shape):
            # Weights ~ N(0, 1/fan_in): each pre-activation then starts with a
            # variance of about 1 (not saturated, not vanishing).
            return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(self.dtype)

        self.parameters = {}
        for l in range(self.num_layers):
            D = self.V if l == 0 else self.H  # layer 0 reads one-hot characters
            self.parameters[f"Wx{l}"] = randn(D, G * self.H)
            self.parameters[f"Wh{l}"] = randn(self.H, G * self.H)
            self.parameters[f"b{l}"] = self._initial_bias()
        self.parameters["Wy"] = randn(self.H, self.V)
        self.parameters["by"] = np.zeros(self.V, dtype=self.dtype)

    def _initial_bias(self):
        return np.zeros(self.gates * self.H, dtype=self.dtype)

    def __repr__(self):
        n = sum(p.size for p in self.parameters.values())
        return (f"{type(self).__name__}(V={self.V}, H={self.H}, num_layers={self.num_layers}, "
                f"dtype={self.dtype.name}) with {n} parameters")

    # -- state ---------------------------------------------------------------

    def initial_state(self, N):
        """The all-zero state for a batch of N sequences (one entry per layer)."""
        raise NotImplementedError

    def _check_state(self, state, N):
        raise NotImplementedError

    # -- one layer (subclasses) ------------------------------------------------

    def _layer_forward(self, l, x, layer_state):
        """Run layer l on x (N, T, D): return h (N, T, H), cache, final layer state."""
        raise NotImplementedError

    def _layer_backward(self, dh, cache):
        """Backward through one layer: return dx, dWx, dWh, db."""
        raise NotImplementedError

    def _layer_step(self, l, x, layer_state):
        """One time step of layer l on x (N, D): return h (N, H), new layer state."""
        raise NotImplementedError

    # -- training --------------------------------------------------------------

    def loss_and_grads(self, inputs, targets, state=None):
        """Loss and gradients on one chunk of text (one step of truncated BPTT).

        Inputs:
            inputs   (N, T) ints in [0, V), the input characters
            targets  (N, T) ints in [0, V), the next characters to predict
            state    None (zeros) or the state returned by the previous call,
                     to continue each of the N sequences where it stopped

        Returns:
            loss   float, mean cross-entropy per character (over N*T positions)
            grads  dict with the same keys and shapes as ``self.parameters``
            state  the state after the last time step, for the next chunk.
                   It is a new value: gradients never flow through it (the
                   truncation of truncated BPTT).
        """
        inputs = np.asarray(inputs)
        if inputs.ndim != 2:
            raise ValueError(f"inputs has shape {inputs.shape} but expected 2 dimensions (N, T)")
        N, T = inputs.shape
        inputs = _check_indices("inputs", inputs, self.V, (N, T), "(N, T)")
        targets = _check_indices("targets", targets, self.V, (N, T), "(N, T)")
        state = self.initial_state(N) if state is None else self._check_state(state, N)
        p = self.parameters

        # ---- forward: characters -> one-hot -> layers -> scores -> loss ----
        x = one_hot(inputs, self.V, dtype=self.dtype)  # (N, T, V)
        caches, new_state = [], []
        for l in range(self.num_layers):
            x, cache, layer_state = self._layer_forward(l, x, state[l])  # x is now (N, T, H)
            caches.append(cache)
            new_state.append(layer_state)
        scores, out_cache = temporal_affine_forward(x, p["Wy"], p["by"])  # (N, T, V)
        loss, dscores = temporal_softmax_loss(scores, targets)

        # ---- backward: the same path in reverse ----
        grads = {}
        dx, grads["Wy"], grads["by"] = temporal_affine_backward(dscores, out_cache)
        for l in reversed(range(self.num_layers)):
            # dx of layer l is the dh of layer l - 1 (the layer below).
            dx, grads[f"Wx{l}"], grads[f"Wh{l}"], grads[f"b{l}"] = self._layer_backward(dx, caches[l])
        # dx is now the gradient w.r.t. the one-hot input: not needed.
        grads = {k: grads[k] for k in p}  # same order as the parameters
        return loss, grads, new_state

    # -- evaluation ------------------------------------------------------------

    def mean_loss(self, ids, n_streams=16, T=256):
        """Mean cross-entropy per character (nats) of a long text, forward only.

        ids        1-D ints in [0, V): the text; each ids[k + 1] is predicted from ids[:k + 1]
        n_streams  the text is cut into this many contiguous parts, run side by side
                   as a batch (the state carried from chunk to chunk within each part)
        T          characters per chunk (memory only: the result does not depend on it)

        Returns a float: the average of -log p(next character) over the
        n_streams * ((len(ids) - 1) // n_streams) predicted characters.
        """
        ids = np.asarray(ids)
        if ids.ndim != 1 or len(ids) < n_streams + 1:
            raise ValueError(f"ids has shape {ids.shape}; expected a 1-D array of at least "
                             f"n_streams + 1 = {n_streams + 1} character ids")
        ids = _check_indices("ids", ids, self.V, ids.shape, "(length,)")
        L = (len(ids) - 1) // n_streams                      # predictions per stream
        starts = np.arange(n_streams) * L
        inputs = ids[starts[:, None] + np.arange(L)]          # (n_streams, L)
        targets = ids[starts[:, None] + np.arange(L) + 1]
        state, total = self.initial_state(n_streams), 0.0
        for t0 in range(0, L, T):
            x = one_hot(inputs[:, t0:t0 + T], self.V, dtype=self.dtype)
            for l in range(self.num_layers):
                x, _, state[l] = self._layer_forward(l, x, state[l])
            scores = (x @ self.parameters["Wy"] + self.parameters["by"]).astype(np.float64)
            chunk_targets = targets[:, t0:t0 + T]
            chunk_loss, _ = temporal_softmax_loss(scores, chunk_targets)   # the mean over the chunk
            total += chunk_loss * chunk_targets.size
        return total / (n_streams * L)

    # -- generation ------------------------------------------------------------

    def sample(self, seed_ix, n, temperature=1.0, rng=None, state=None):
        """Generate n character ids, feeding each sampled character back in.

        Inputs:
            seed_ix      int in [0, V), the first input character
            n            how many characters to generate
            temperature  > 0; scores are divided by it before the softmax:
                         < 1 sharper (-> argmax as it goes to 0), > 1 flatter
            rng          numpy Generator, int seed or None; same seed, same text
            state        None (zeros) or a state for a batch of N = 1, e.g. the
                         one returned by loss_and_grads on a 1-sequence batch

        Returns:
            list of n ints (the seed is not included)
        """
        _check_indices("seed_ix", np.array([seed_ix]), self.V)
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        rng = np.random.default_rng(rng)
        state = self.initial_state(1) if state is None else self._check_state(state, 1)
        state = list(state)
        p = self.parameters

        ix, out = int(seed_ix), []
        for _ in range(n):
            x = one_hot(np.array([ix]), self.V, dtype=self.dtype)  # (1, V)
            for l in range(self.num_layers):
                x, state[l] = self._layer_step(l, x, state[l])  # (1, H)
            scores = (x @ p["Wy"] + p["by"])[0] / temperature  # (V,)
            e = np.exp(scores - scores.max())
            probs = (e / e.sum()).astype(np.float64)
            ix = int(rng.choice(self.V, p=probs / probs.sum()))
            out.append(ix)
        return out


class CharRNN(_CharModel):
    """A character-level vanilla RNN (stacked if num_layers > 1).

    CharRNN(V, H, num_layers=1, seed=0, dtype=np.float64)

    State: a list with one hidden state h of shape (N, H) per layer.
    """

    gates = 1

    def initial_state(self, N):
        return [np.zeros((N, self.H), dtype=self.dtype) for _ in range(self.num_layers)]

    def _check_state(self, state, N):
        if len(state) != self.num_layers:
            raise ValueError(f"state has {len(state)} entries but expected one h (N, H) per layer "
                             f"({self.num_layers})")
        return [check_shape(f"state[{l}]", h, (N, self.H), "(N, H)") for l, h in enumerate(state)]

    def _layer_forward(self, l, x, h0):
        p = self.parameters
        h, cache = rnn_forward(x, h0, p[f"Wx{l}"], p[f"Wh{l}"], p[f"b{l}"])
        return h, cache, h[:, -1].copy()

    def _layer_backward(self, dh, cache):
        dx, _dh0, dWx, dWh, db = rnn_backward(dh, cache)  # _dh0 dropped: truncated BPTT
        return dx, dWx, dWh, db

    def _layer_step(self, l, x, h):
        p = self.parameters
        h, _ = rnn_step_forward(x, h, p[f"Wx{l}"], p[f"Wh{l}"], p[f"b{l}"])
        return h, h


class CharLSTM(_CharModel):
    """A character-level LSTM (stacked if num_layers > 1).

    CharLSTM(V, H, num_layers=1, seed=0, dtype=np.float64, forget_bias=1.0)

    The weights of each layer have 4H columns in gate order i, f, o, g. The
    forget-gate biases (``b{l}[H:2H]``) start at ``forget_bias``: with 1.0,
    f = sigmoid(1) ~ 0.73 at first, so the cell remembers by default and
    gradients flow back through c from the start (Gers et al. 2000;
    Jozefowicz et al. 2015).

    State: a list with one pair (h, c), each (N, H), per layer.
    """

    gates = 4

    def __init__(self, V, H, num_layers=1, seed=0, dtype=np.float64, forget_bias=1.0):
        self.forget_bias = float(forget_bias)
        super().__init__(V, H, num_layers=num_layers, seed=seed, dtype=dtype)
        # one Workspace per layer: the forward cache's memory is kept from one
        # training step to the next instead of being allocated afresh (see
        # lstm_fast.Workspace); each layer's backward runs before its next forward
        self._workspaces = [Workspace() for _ in range(self.num_layers)]

    def _initial_bias(self):
        b = np.zeros(4 * self.H, dtype=self.dtype)
        b[self.H:2 * self.H] = self.forget_bias  # gate order i, f, o, g
        return b

    def initial_state(self, N):
        return [(np.zeros((N, self.H), dtype=self.dtype), np.zeros((N, self.H), dtype=self.dtype))
                for _ in range(self.num_layers)]

    def _check_state(self, state, N):
        if len(state) != self.num_layers:
            raise ValueError(f"state has {len(state)} entries but expected one pair (h, c) per layer "
                             f"({self.num_layers})")
        checked = []
        for l, hc in enumerate(state):
            if len(hc) != 2:
                raise ValueError(f"state[{l}] has {len(hc)} entries but expected a pair (h, c)")
            checked.append((check_shape(f"state[{l}][0] (h)", hc[0], (N, self.H), "(N, H)"),
                            check_shape(f"state[{l}][1] (c)", hc[1], (N, self.H), "(N, H)")))
        return checked

    def _layer_forward(self, l, x, layer_state):
        p = self.parameters
        h0, c0 = layer_state
        h, cache = lstm_forward(x, h0, p[f"Wx{l}"], p[f"Wh{l}"], p[f"b{l}"], c0=c0,
                                workspace=self._workspaces[l])
        return h, cache, lstm_final_state(cache)  # (h_T, c_T) for the next chunk

    def _layer_backward(self, dh, cache):
        # No gradient arrives from the next chunk (dc_T = 0), and dh0 is
        # dropped: truncated BPTT stops the gradient at the chunk boundary.
        dx, _dh0, dWx, dWh, db = lstm_backward(dh, cache)
        return dx, dWx, dWh, db

    # -- files -----------------------------------------------------------------

    def save(self, path, chars, info=None, curve=None):
        """Write the model and its vocabulary ``chars`` (V characters in id order)
        to ``path``, a plain .npz file (see ``model_file`` for the layout)."""
        model_file.save(self, path, chars, info=info, curve=curve)

    @classmethod
    def load(cls, path):
        """Read a file written by ``save``: returns ``(model, chars, info, curve)``.

        Only arrays are read (never pickles); a missing, truncated, foreign or
        inconsistent file raises an error that names the file and the problem.
        """
        return model_file.load(path, cls)

    def _layer_step(self, l, x, layer_state):
        p = self.parameters
        h, c = layer_state
        h, c, _ = lstm_step_forward(x, h, c, p[f"Wx{l}"], p[f"Wh{l}"], p[f"b{l}"])
        return h, (h, c)
