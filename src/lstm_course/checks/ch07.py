"""Exercise checks for chapter 07: a character-level LSTM that writes text."""
import numpy as np

from ._core import compare, register


# Checks: temperature_probs, sample_with_temperature, evaluate_per_char, train_step.
# Wrong answers are compared with typical mistakes (multiplying by T, bits instead
# of nats, no carried state, mean over chunks, clipping after the update, ...) and
# the matching one is named.
def _ch07_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


_CH07_LOGIT_CASES = (
    ("random scores, T = 1", lambda rng: rng.standard_normal(6) * 2.0, 1.0),
    ("random scores, T = 0.5", lambda rng: rng.standard_normal(7) * 2.0, 0.5),
    ("random scores, T = 2", lambda rng: rng.standard_normal(5) * 2.0, 2.0),
    ("random scores, T = 3.7", lambda rng: rng.standard_normal(9), 3.7),
    ("large scores [1000, 990, 0], T = 0.1", lambda rng: np.array([1000.0, 990.0, 0.0]), 0.1),
    ("scores [800, -800, 0, 10], T = 0.01", lambda rng: np.array([800.0, -800.0, 0.0, 10.0]), 0.01),
    ("equal scores, T = 0.3", lambda rng: np.full(4, 2.5), 0.3),
)


@register("temperature_probs")
def _check_temperature_probs(student_fn, rng):
    problems, n = [], 0
    for label, make, T in _CH07_LOGIT_CASES:
        logits = make(rng)
        expected = _ch07_softmax(logits / T)
        with np.errstate(all="ignore"):
            got = student_fn(logits.copy(), T)
        n += 1
        if got is None:
            return [f"{label}: your function returned None (did you forget to return it?)"], n
        got = np.asarray(got, dtype=np.float64)
        if got.shape != expected.shape:
            return [f"{label}: shape {got.shape}, expected {expected.shape} (one probability per score)"], n
        if not np.all(np.isfinite(got)):
            return [f"{label}: your probabilities contain NaN or inf: exp overflowed. Subtract the "
                    "largest score before exp (it does not change the softmax)"], n
        msg = compare(f"{label}: probabilities", got, expected, tol=1e-9)
        if msg:
            hint = ""
            if np.allclose(got, _ch07_softmax(logits * T), rtol=1e-9, atol=1e-12):
                hint = ": they equal softmax(logits * T); divide the scores by T, do not multiply"
            elif np.allclose(got, _ch07_softmax(logits), rtol=1e-9, atol=1e-12):
                hint = ": they equal softmax(logits); the temperature was not used"
            elif not np.isclose(got.sum(), 1.0, rtol=1e-9):
                hint = f": they sum to {got.sum():.6g}, not 1 (normalise)"
            problems.append(msg[0] + hint)
            break
    return problems, n


@register("sample_with_temperature")
def _check_sample_with_temperature(student_fn, rng):
    problems, n = [], 0
    draws = 4000
    for label, logits, T in (("scores [2, 1, 0, -1], T = 1", np.array([2.0, 1.0, 0.0, -1.0]), 1.0),
                             ("scores [2, 1, 0, -1], T = 0.5", np.array([2.0, 1.0, 0.0, -1.0]), 0.5),
                             ("scores [1, 0.5, 0, 0, -1], T = 2", np.array([1.0, 0.5, 0.0, 0.0, -1.0]), 2.0)):
        p = _ch07_softmax(logits / T)
        g = np.random.default_rng(1234)
        samples = []
        for _ in range(draws):
            k = student_fn(logits.copy(), T, g)
            if k is None:
                return [f"{label}: your function returned None (return the sampled index)"], n
            try:
                k = int(np.asarray(k).item())
            except (TypeError, ValueError):
                return [f"{label}: return one integer index, got {type(k).__name__} {k!r:.40}"], n
            if not 0 <= k < len(logits):
                return [f"{label}: index {k} out of range [0, {len(logits)})"], n
            samples.append(k)
        n += 1
        freq = np.bincount(samples, minlength=len(logits)) / draws
        se = np.sqrt(p * (1 - p) / draws)
        if np.any(np.abs(freq - p) > 5 * se + 1e-3):
            msg = (f"{label}: the frequencies of {draws} draws are {np.round(freq, 3).tolist()}, "
                   f"expected about {np.round(p, 3).tolist()}")
            if len(set(samples)) == 1:
                msg += "; you always return the same index: sample with rng.choice instead of argmax"
            elif np.all(np.abs(freq - _ch07_softmax(logits * T)) <= 5 * se + 2e-2):
                msg += "; they match softmax(logits * T): divide the scores by T, do not multiply"
            elif np.all(np.abs(freq - _ch07_softmax(logits)) <= 5 * se + 2e-2):
                msg += "; they match softmax(logits): the temperature was not used"
            return [msg], n
    # reproducible: the same generator state gives the same draws
    logits = np.array([0.3, 0.1, -0.2, 0.0, 0.4])
    a = [int(student_fn(logits, 1.0, np.random.default_rng(7))) for _ in range(20)]
    g1, g2 = np.random.default_rng(99), np.random.default_rng(99)
    b1 = [int(student_fn(logits, 1.0, g1)) for _ in range(30)]
    b2 = [int(student_fn(logits, 1.0, g2)) for _ in range(30)]
    n += 1
    if len(set(a)) != 1 or b1 != b2:
        problems.append("two generators with the same seed gave different draws: draw with the `rng` "
                        "argument (rng.choice or rng.random), not np.random or the random module")
    # large scores and a small temperature must not overflow
    n += 1
    try:
        with np.errstate(all="ignore"):
            k = student_fn(np.array([1000.0, 990.0, 0.0]), 0.1, np.random.default_rng(0))
    except (ValueError, FloatingPointError, OverflowError) as exc:
        problems.append(f"scores [1000, 990, 0] at T = 0.1 made your function raise "
                        f"{type(exc).__name__}: {exc}; exp overflowed: subtract the largest score before exp")
        return problems, n
    if k is None or int(np.asarray(k).item()) != 0:
        problems.append("scores [1000, 990, 0] at T = 0.1 should give index 0 (probability "
                        f"1 - 5e-44), got {k!r}: subtract the largest score before exp")
    return problems, n


def _ch07_evaluate_variant(model, text_ix, T, *, carry=True, weight="chars", drop_last=False):
    """The held-out loss per character, or one of the typical mistakes."""
    inputs_all, targets_all = text_ix[:-1], text_ix[1:]
    state, total, count, chunk_means = None, 0.0, 0, []
    for s in range(0, len(inputs_all), T):
        x, y = inputs_all[None, s:s + T], targets_all[None, s:s + T]
        if drop_last and x.shape[1] < T:
            break
        loss, _, new_state = model.loss_and_grads(x, y, state if carry else None)
        state = new_state
        total += loss * x.shape[1]
        count += x.shape[1]
        chunk_means.append(loss)
    return float(np.mean(chunk_means)) if weight == "chunks" else total / count


@register("evaluate_per_char")
def _check_evaluate_per_char(student_fn, rng):
    from ..models import CharLSTM, CharRNN

    problems, n = [], 0
    cases = (("a 1-layer CharLSTM, 53 characters, T = 10", CharLSTM(7, 5, seed=3), 53, 10),
             ("a 2-layer CharLSTM, 38 characters, T = 8", CharLSTM(6, 4, num_layers=2, seed=4), 38, 8),
             ("a CharRNN, 41 characters, T = 10", CharRNN(5, 6, seed=5), 41, 10),
             ("a CharLSTM, 12 characters, T = 20 (one chunk)", CharLSTM(4, 3, seed=6), 12, 20))
    for label, model, length, T in cases:
        # scale up the weights so the state matters (a carried state changes the loss)
        for k in model.parameters:
            if k.startswith("W"):
                model.parameters[k] *= 3.0
        text_ix = rng.integers(0, model.V, size=length)
        before = {k: v.copy() for k, v in model.parameters.items()}
        expected = _ch07_evaluate_variant(model, text_ix, T)
        got = student_fn(model, text_ix.copy(), T)
        n += 1
        if any(not np.array_equal(before[k], model.parameters[k]) for k in before):
            return [f"{label}: your function changed the model's parameters; evaluation must not train"], n
        if got is None:
            return [f"{label}: your function returned None (return the mean loss)"], n
        try:
            got = float(got)
        except (TypeError, ValueError):
            return [f"{label}: return one number (the mean loss), got {type(got).__name__}"], n
        if np.isclose(got, expected, rtol=1e-9, atol=0):
            continue
        msg = f"{label}: you returned {got:.6f}, expected {expected:.6f} nats per character"
        variants = (
            (expected / np.log(2), "this is the loss in bits; return nats (the natural-log loss of "
                                   "loss_and_grads) and convert to bits only when you print"),
            (_ch07_evaluate_variant(model, text_ix, T, carry=False),
             "this is what you get when every chunk starts from a zero state: pass the state "
             "returned by one chunk to the next"),
            (_ch07_evaluate_variant(model, text_ix, T, weight="chunks"),
             "this is the mean of the chunk losses; the last chunk is shorter, so weight each "
             "chunk by its number of characters"),
            (_ch07_evaluate_variant(model, text_ix, T, drop_last=True),
             "this leaves out the last, shorter chunk: every character after the first must be "
             "predicted once"),
            (_ch07_evaluate_variant(model, text_ix, T, carry=False, weight="chunks"),
             "this is the mean of chunk losses, each from a zero state: carry the state and "
             "weight by characters"),
        )
        for value, hint in variants:
            if np.isclose(got, value, rtol=1e-9, atol=0):
                msg += f"; {hint}"
                break
        problems.append(msg)
        break
    return problems, n


def _ch07_train_step_variant(model, opt, batches, max_norm, *, mode="ref"):
    """Run consecutive train steps the reference way or a typical wrong way."""
    from ..optim import clip_grad_norm, clip_grad_value, global_norm

    state, out = None, []
    for inputs, targets in batches:
        loss, grads, new_state = model.loss_and_grads(inputs, targets,
                                                       None if mode == "no_state" else state)
        state = new_state
        norm = global_norm(grads)
        if mode == "no_clip":
            pass
        elif mode == "value_clip":
            clip_grad_value(grads, max_norm)
        elif mode == "clip_after":
            opt.step(model.parameters, grads)
            clip_grad_norm(grads, max_norm)
        else:
            clip_grad_norm(grads, max_norm)
        if mode != "clip_after":
            opt.step(model.parameters, grads)
        out.append((loss, {k: g.copy() for k, g in grads.items()}, norm,
                    {k: p.copy() for k, p in model.parameters.items()}))
    return out


@register("train_step")
def _check_train_step(student_fn, rng):
    from ..models import CharLSTM
    from ..optim import Adam

    problems, n = [], 0
    for label, max_norm in (("max_norm = 0.05 (clipping acts)", 0.05),
                            ("max_norm = 100 (clipping does nothing)", 100.0)):
        V, H, N, T = 7, 5, 3, 6
        batches = [(rng.integers(0, V, size=(N, T)), rng.integers(0, V, size=(N, T))) for _ in range(3)]
        ref_model = CharLSTM(V, H, seed=11)
        ref = _ch07_train_step_variant(ref_model, Adam(lr=0.05), batches, max_norm)

        model, opt, state = CharLSTM(V, H, seed=11), Adam(lr=0.05), None
        for step, (inputs, targets) in enumerate(batches):
            result = student_fn(model, inputs, targets, state, opt, max_norm)
            n += 1
            if result is None or len(result) != 4:
                return [f"{label}: return (loss, grads, state, norm), got {result!r:.60}"], n
            loss, grads, state, norm = result
            r_loss, r_grads, r_norm, r_params = ref[step]
            where = f"{label}, step {step + 1}"
            found = []
            found += compare(f"{where}: loss", loss, r_loss, tol=1e-9)
            if found and step > 0:
                found[0] += ("; the first step was right, so the state is probably not carried: "
                             "pass `state` to loss_and_grads and return the new one")
                return found, n
            found += compare(f"{where}: norm", norm, r_norm, tol=1e-9)
            if found and max_norm < 1 and np.isclose(float(norm), max_norm, rtol=1e-9):
                found[-1] += "; return the norm BEFORE clipping (clip_grad_norm returns it)"
            if not isinstance(grads, dict) or set(grads) != set(r_grads):
                return found + [f"{where}: grads must be a dict with the keys {sorted(r_grads)}"], n
            grad_problems = []
            for k in r_grads:
                grad_problems += compare(f"{where}: grads[{k!r}]", grads[k], r_grads[k], tol=1e-8)
            found += grad_problems
            for k in r_params:
                found += compare(f"{where}: parameter {k!r} after the update", model.parameters[k],
                                 r_params[k], tol=1e-8)
            if found:
                hint = _ch07_train_step_hint(batches, max_norm, model, step, not grad_problems)
                return ([hint] if hint else []) + found[:3], n
    return problems, n


def _ch07_train_step_hint(batches, max_norm, student_model, step, grads_ok):
    """Name the typical mistake whose parameters match the student's."""
    from ..models import CharLSTM
    from ..optim import Adam

    hints = {
        "no_clip": ("your returned gradients are clipped correctly, but the parameters were updated "
                    "with the UNCLIPPED gradients (clipping AFTER optimizer.step, or clipping a copy): "
                    "clip the gradients first, then step with them") if grads_ok else
                   "your update matches one WITHOUT clipping: call clip_grad_norm(grads, max_norm) "
                   "before optimizer.step",
        "value_clip": "your gradients match value clipping (np.clip to [-max_norm, max_norm]); clip the "
                      "global norm instead (optim.clip_grad_norm)",
    }
    for mode, hint in hints.items():
        m = CharLSTM(7, 5, seed=11)
        out = _ch07_train_step_variant(m, Adam(lr=0.05), batches[:step + 1], max_norm, mode=mode)
        params = out[-1][3]
        if all(np.allclose(student_model.parameters[k], params[k], rtol=1e-8, atol=1e-12) for k in params):
            return hint
    return None
