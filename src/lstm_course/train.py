"""A small, generic training loop.

One step of training is always the same five lines, whatever the model::

    inputs, targets, reset = batch_fn(step)            # 1. data
    loss, grads, state = model.loss_and_grads(inputs, targets, state)   # 2. forward + BPTT
    norm = global_norm(grads)                          # 3. measure (before clipping)
    clip_grad_norm(grads, clip_norm)                   # 4. clip (optional)
    optimizer.step(model.parameters, grads)            # 5. update in place

:func:`train` runs these steps, records a :class:`History`, shows a progress
bar (``tqdm.auto``: a widget in notebooks, text in a terminal) and stops early
when the validation loss stops improving.

The model interface
-------------------
* ``model.parameters`` -- dict ``name -> array``, updated in place;
* ``model.loss_and_grads(inputs, targets, state) -> (loss, grads, state)`` --
  ``grads`` has the keys of ``parameters`` (the min-char-rnn style ``"d" + name``
  is accepted too), ``state`` is whatever the model carries from one batch to
  the next (e.g. the last ``(h, c)``), ``None`` meaning "start from zeros".

Carrying ``state`` over while *not* back-propagating into the previous batch
is truncated BPTT, as in min-char-rnn; ``batch_fn`` returns ``reset=True``
whenever the next batch does not continue the previous one (a new pass over
the text, or independent sequences as in the adding problem).
"""
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .optim import clip_grad_norm, clip_grad_value, global_norm

__all__ = ["History", "train"]


@dataclass
class History:
    """What happened during :func:`train`, as plain lists (easy to plot).

    step, loss, grad_norm : one entry per training step; ``grad_norm`` is the
        global gradient norm *before* clipping.
    val_step, val_loss : one entry per evaluation (the step it followed).
    stopped : ``None`` if all ``num_steps`` ran, ``"early_stop"`` when the
        validation loss had not improved for ``patience`` evaluations,
        ``"non_finite"`` when the loss or gradient became inf/nan.
    """

    step: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    val_step: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    stopped: object = None

    @property
    def stopped_early(self):
        """True when training ended because validation stopped improving."""
        return self.stopped == "early_stop"

    @property
    def best_val_loss(self):
        """The lowest validation loss seen (``None`` without validation)."""
        return min(self.val_loss) if self.val_loss else None

    @property
    def best_val_step(self):
        """The step after which the best validation loss was measured."""
        if not self.val_loss:
            return None
        return self.val_step[int(np.argmin(self.val_loss))]


def _match_keys(params, grads):
    """Accept ``{"dW": ...}`` gradients (min-char-rnn style) for ``{"W": ...}``."""
    if set(grads) != set(params) and set(grads) == {"d" + k for k in params}:
        return {k: grads["d" + k] for k in params}
    return grads


def train(
    model,
    batch_fn,
    optimizer,
    num_steps,
    clip_norm=None,
    clip_value=None,
    val_fn=None,
    eval_every=100,
    patience=None,
    progress=True,
    seed=None,
):
    """Train ``model`` for up to ``num_steps`` steps and return a :class:`History`.

    Parameters
    ----------
    model : has ``parameters`` and ``loss_and_grads`` (see the module docstring).
    batch_fn : ``batch_fn(step) -> (inputs, targets, reset_state)``.
    optimizer : e.g. ``optim.Adam(lr=1e-2)``; anything with ``step(params, grads)``.
    num_steps : number of updates.
    clip_norm : if given, :func:`~lstm_course.optim.clip_grad_norm` with this
        ``max_norm`` before each update (the recommended clipping).
    clip_value : if given, :func:`~lstm_course.optim.clip_grad_value` too
        (min-char-rnn uses 5).
    val_fn : ``val_fn(model) -> float``, the validation loss; called every
        ``eval_every`` steps and after the last step.
    patience : stop when the validation loss has not improved for this many
        evaluations in a row (needs ``val_fn``); ``None`` never stops early.
    progress : show a ``tqdm`` progress bar; use ``False`` in stored notebook
        outputs and tests.
    seed : if given, ``np.random.seed(seed)`` first, so models that draw from
        numpy's global generator (initial states, sampling) are reproducible.
        Data randomness belongs in ``batch_fn`` (seed it there).
    """
    num_steps = int(num_steps)
    eval_every = int(eval_every)
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if eval_every < 1:
        raise ValueError(f"eval_every must be >= 1, got {eval_every}")
    if patience is not None and (val_fn is None or int(patience) < 1):
        raise ValueError(
            f"patience={patience!r} needs a val_fn and must be >= 1 "
            f"(got val_fn={'None' if val_fn is None else 'a function'})"
        )
    if seed is not None:
        np.random.seed(seed)

    history = History()
    state = None
    best, bad_evals = np.inf, 0
    bar = tqdm(range(num_steps), disable=not progress, desc="training", leave=True)
    for step in bar:
        inputs, targets, reset = batch_fn(step)
        if reset:
            state = None
        loss, grads, state = model.loss_and_grads(inputs, targets, state)
        grads = _match_keys(model.parameters, grads)

        norm = global_norm(grads)  # logged before clipping
        loss = float(loss)
        history.step.append(step)
        history.loss.append(loss)
        history.grad_norm.append(norm)
        if not (np.isfinite(loss) and np.isfinite(norm)):
            history.stopped = "non_finite"
            break

        if clip_norm is not None:
            clip_grad_norm(grads, clip_norm)
        if clip_value is not None:
            clip_grad_value(grads, clip_value)
        optimizer.step(model.parameters, grads)

        if val_fn is not None and ((step + 1) % eval_every == 0 or step == num_steps - 1):
            val = float(val_fn(model))
            history.val_step.append(step)
            history.val_loss.append(val)
            if val < best:
                best, bad_evals = val, 0
            else:
                bad_evals += 1
            bar.set_postfix(loss=f"{loss:.4g}", val=f"{val:.4g}", refresh=False)
            if patience is not None and bad_evals >= int(patience):
                history.stopped = "early_stop"
                break
        elif step % 10 == 0:
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
    bar.close()
    return history
