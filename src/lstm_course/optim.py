"""Update rules and gradient clipping.

Conventions (one approach everywhere)
-------------------------------------
* ``params`` and ``grads`` are dicts ``name -> numpy array`` with the **same
  keys** and matching shapes, e.g. ``{"Wx": (D, 4H), "Wh": (H, 4H), "b": (4H,)}``.
  (min-char-rnn names its gradients ``dWxh``, ...; rename them to the parameter
  names before calling an optimizer.)
* Each optimizer is a small class built with its hyper-parameters, holding
  its own per-parameter memory (velocity, squared-gradient sums, ...), with one
  method ``step(params, grads)`` that **updates the parameter arrays in
  place**. In place matters: a model keeps references to its arrays, so
  ``params["W"] = params["W"] - lr * g`` would make a *new* array the model
  never sees, while ``params["W"] -= lr * g`` changes the model's own array.
* The clipping functions also work in place on ``grads`` and are called
  *between* the backward pass and ``step``::

      loss, grads, state = model.loss_and_grads(x, y, state)
      norm = clip_grad_norm(grads, max_norm=5.0)   # norm before clipping
      opt.step(model.parameters, grads)

Update rules, per parameter p with gradient g (all operations elementwise):

=========  ==========================================================
SGD        p <- p - lr g
Momentum   v <- beta v - lr g;            p <- p + v
Adagrad    m <- m + g^2;                  p <- p - lr g / sqrt(m + eps)
Adam       m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  t <- t + 1
           m_hat = m / (1-b1^t);  v_hat = v / (1-b2^t)
           p <- p - lr m_hat / (sqrt(v_hat) + eps)
=========  ==========================================================

Adagrad is written exactly as in Karpathy's min-char-rnn
(``mem += dparam * dparam; param += -learning_rate * dparam / np.sqrt(mem + 1e-8)``).
"""
import numpy as np

from ._validate import as_float_array

__all__ = [
    "SGD",
    "Momentum",
    "Adagrad",
    "Adam",
    "global_norm",
    "clip_grad_norm",
    "clip_grad_value",
]


# ----------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------
def _check_positive(name, value):
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return value


def _check_beta(name, value):
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def _check_grads(grads, name="grads"):
    """Every gradient must be a float ndarray (we modify them in place)."""
    if not isinstance(grads, dict):
        raise ValueError(f"{name} must be a dict name -> array, got {type(grads).__name__}")
    for key, g in grads.items():
        if not isinstance(g, np.ndarray):
            raise ValueError(
                f"{name}[{key!r}] must be a numpy array, got {type(g).__name__}"
            )
        as_float_array(f"{name}[{key!r}]", g)


def _check_params_grads(params, grads):
    """Same keys, same shapes, float arrays (updated in place)."""
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict name -> array, got {type(params).__name__}")
    _check_grads(grads)
    if set(params) != set(grads):
        missing = sorted(set(params) - set(grads))
        extra = sorted(set(grads) - set(params))
        raise ValueError(
            "params and grads must have the same keys; "
            f"missing in grads: {missing}, not in params: {extra}"
        )
    for key, p in params.items():
        if not isinstance(p, np.ndarray):
            raise ValueError(f"params[{key!r}] must be a numpy array, got {type(p).__name__}")
        as_float_array(f"params[{key!r}]", p)
        if grads[key].shape != p.shape:
            raise ValueError(
                f"grads[{key!r}] has shape {grads[key].shape} but expected "
                f"the shape of params[{key!r}] = {p.shape}"
            )


# ----------------------------------------------------------------------------
# optimizers
# ----------------------------------------------------------------------------
class SGD:
    """Plain gradient descent: ``p <- p - lr * g``."""

    def __init__(self, lr=1e-2):
        self.lr = _check_positive("lr", lr)

    def step(self, params, grads):
        """Update every ``params[k]`` in place using ``grads[k]``."""
        _check_params_grads(params, grads)
        for k in params:
            params[k] -= self.lr * grads[k]

    def __repr__(self):
        return f"SGD(lr={self.lr})"


class Momentum:
    """SGD with (heavy-ball) momentum.

    ``v <- beta * v - lr * g;  p <- p + v``.  The velocity ``v`` starts at 0
    and is an exponentially decaying sum of past steps, so directions that
    keep the same sign speed up by up to 1 / (1 - beta) (10x for beta = 0.9).
    """

    def __init__(self, lr=1e-2, beta=0.9):
        self.lr = _check_positive("lr", lr)
        self.beta = _check_beta("beta", beta)
        self.v = {}

    def step(self, params, grads):
        """Update every ``params[k]`` in place using ``grads[k]``."""
        _check_params_grads(params, grads)
        for k in params:
            v = self.v.setdefault(k, np.zeros_like(params[k]))
            v *= self.beta
            v -= self.lr * grads[k]
            params[k] += v

    def __repr__(self):
        return f"Momentum(lr={self.lr}, beta={self.beta})"


class Adagrad:
    """Adagrad, exactly as in min-char-rnn.

    ``mem <- mem + g * g;  p <- p - lr * g / sqrt(mem + eps)``.
    ``mem`` only grows, so each parameter's step size shrinks over time, more
    for parameters that have seen large gradients.
    """

    def __init__(self, lr=1e-1, eps=1e-8):
        self.lr = _check_positive("lr", lr)
        self.eps = _check_positive("eps", eps)
        self.mem = {}

    def step(self, params, grads):
        """Update every ``params[k]`` in place using ``grads[k]``."""
        _check_params_grads(params, grads)
        for k in params:
            g = grads[k]
            mem = self.mem.setdefault(k, np.zeros_like(params[k]))
            mem += g * g
            params[k] -= self.lr * g / np.sqrt(mem + self.eps)

    def __repr__(self):
        return f"Adagrad(lr={self.lr}, eps={self.eps})"


class Adam:
    """Adam (Kingma & Ba, 2015) with bias correction.

    ``m`` (mean of g) and ``v`` (mean of g^2) are running averages that start
    at 0; dividing by ``1 - beta^t`` removes their bias towards 0 in the first
    steps. The step ``lr * m_hat / (sqrt(v_hat) + eps)`` has size about ``lr``
    whatever the scale of the gradient.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = _check_positive("lr", lr)
        self.beta1 = _check_beta("beta1", beta1)
        self.beta2 = _check_beta("beta2", beta2)
        self.eps = _check_positive("eps", eps)
        self.m = {}
        self.v = {}
        self.t = 0

    def step(self, params, grads):
        """Update every ``params[k]`` in place using ``grads[k]``."""
        _check_params_grads(params, grads)
        self.t += 1
        for k in params:
            g = grads[k]
            m = self.m.setdefault(k, np.zeros_like(params[k]))
            v = self.v.setdefault(k, np.zeros_like(params[k]))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1 ** self.t)
            v_hat = v / (1 - self.beta2 ** self.t)
            params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps})"


# ----------------------------------------------------------------------------
# clipping
# ----------------------------------------------------------------------------
def global_norm(grads):
    """The L2 norm of all gradients together, as if concatenated into one vector.

    ``||g|| = sqrt( sum_k sum_ij grads[k][ij]^2 )``. Returns a Python float
    (0.0 for an empty dict).

    Exploding gradients can hold numbers like 1e200 whose squares overflow,
    so we first divide by the largest magnitude ``a`` and use
    ``||g|| = a * sqrt(sum((g / a)^2))`` (the same number, computed safely).
    """
    _check_grads(grads)
    maxes = [float(np.max(np.abs(g))) for g in grads.values() if g.size]
    if any(np.isnan(m) for m in maxes):
        return float("nan")
    a = max(maxes, default=0.0)
    if a == 0.0 or a == np.inf:
        return a  # all zeros -> 0.0; an infinite entry -> inf
    total = sum(float(np.sum((g / a) ** 2)) for g in grads.values())
    return float(a * np.sqrt(total))


def clip_grad_norm(grads, max_norm):
    """Rescale all gradients together so their global norm is at most ``max_norm``.

    The rule of Pascanu, Mikolov & Bengio (2013), applied in place::

        norm = ||g||                      (global_norm over every array)
        if norm > max_norm:
            g <- g * (max_norm / norm)    (the same factor for every array)

    Afterwards the global norm is exactly ``max_norm`` (when it was larger) and
    the *direction* of the gradient is unchanged: only the step is shorter.
    When ``norm <= max_norm`` (including an all-zero gradient) nothing is
    touched, so there is never a division by zero.

    Returns the norm **before** clipping, which is what you want to log: it
    shows how often and how much the gradient explodes. If the norm is inf or
    nan the gradients are left as they are (no factor can repair them) and the
    non-finite norm is returned so the caller can notice and stop.

    Common mistake: ``g * norm / max_norm`` has the ratio upside down. For a
    norm above the threshold that factor is > 1, so it makes an exploding
    gradient *larger* (its new norm is ``norm**2 / max_norm``) instead of
    shrinking it to ``max_norm``.
    """
    max_norm = _check_positive("max_norm", max_norm)
    norm = global_norm(grads)
    if np.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        for g in grads.values():
            g *= scale
    return norm


def clip_grad_value(grads, clip_value):
    """Clip every gradient entry to ``[-clip_value, clip_value]``, in place.

    This is what min-char-rnn does (``np.clip(dparam, -5, 5, out=dparam)``).
    Unlike :func:`clip_grad_norm` it changes the gradient's *direction*
    (large entries are cut, small ones kept), but it is simple and also
    guards against single huge entries. Returns ``None``.
    """
    clip_value = _check_positive("clip_value", clip_value)
    _check_grads(grads)
    for g in grads.values():
        np.clip(g, -clip_value, clip_value, out=g)
