"""Exercise checks for chapter 02: vanishing and exploding gradients, clipping."""
import numpy as np

from ._core import compare, register


def _ch02_flat_norm(arrays):
    """Global L2 norm of a dict of arrays (float64, as the reference computes it)."""
    return float(np.sqrt(sum(float(np.sum(np.asarray(g, dtype=np.float64) ** 2)) for g in arrays.values())))


def _ch02_call_quietly(fn, *args):
    """Call a student's function without numpy warnings (we report NaNs ourselves)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn(*args)


_CH02_EPS = 1e-6     # the largest eps accepted in max_norm / (norm + eps), PyTorch's


def _ch02_value_clipped(before, after, max_norm):
    """True when ``after`` is ``before`` with every entry clipped to [-max_norm, max_norm]."""
    clipped = {k: np.clip(g, -max_norm, max_norm) for k, g in before.items()}
    changed = any(not np.array_equal(clipped[k], before[k]) for k in before)
    return changed and all(np.allclose(after[k], clipped[k], rtol=1e-12, atol=0) for k in before)


@register("clip_grad_norm")
def _check_clip_grad_norm(student_fn, rng):
    """clip_grad_norm(grads: dict, max_norm) -> norm before clipping; clips in place."""
    def random_grads(target_norm):
        shapes = {"Wx": (int(rng.integers(2, 5)), 6), "Wh": (6, 6), "b": (6,)}
        grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
        factor = target_norm / _ch02_flat_norm(grads)
        return {k: g * factor for k, g in grads.items()}

    # (description, gradient norm before clipping, max_norm)
    cases = [("a large gradient", 25.0, 5.0), ("a huge gradient", 3.0e4, 1.0),
             ("a small gradient", 0.3, 5.0), ("a gradient just above max_norm", 1.2, 1.0)]
    cases += [(f"random case {i}", float(10.0 ** rng.uniform(-2, 3)), float(10.0 ** rng.uniform(-1, 1)))
              for i in range(4)]
    n = 0
    for what, norm0, max_norm in cases:
        n += 1
        grads = random_grads(norm0)
        arrays = dict(grads)                              # the student's arrays (to test in-place)
        before = {k: g.copy() for k, g in grads.items()}
        norm = _ch02_flat_norm(before)
        returned = _ch02_call_quietly(student_fn, grads, max_norm)
        where = f"[{what}: norm {norm:.4g}, max_norm {max_norm:.4g}]"
        # 1. the returned value: the norm BEFORE clipping
        if returned is None:
            return [f"your function returned None; it must return the global norm before clipping "
                    f"({norm:.6g}) {where}"], n
        try:
            returned = float(returned)
        except (TypeError, ValueError):
            return [f"your function returned {type(returned).__name__}; expected one float, the global "
                    f"norm before clipping {where}"], n
        if not np.isclose(returned, norm, rtol=1e-7, atol=0.0):
            msg = f"returned norm {returned:.6g}, expected {norm:.6g} (the norm before clipping) {where}"
            if norm > max_norm and np.isclose(returned, max_norm, rtol=1e-6):
                msg += "; you returned the norm AFTER clipping: compute and keep the norm first"
            elif np.isclose(returned, norm ** 2, rtol=1e-6):
                msg += "; that is the squared norm: take the square root of the sum of squares"
            elif any(np.isclose(returned, np.linalg.norm(g), rtol=1e-6) for g in before.values()):
                msg += ("; that is the norm of ONE array: the global norm runs over all arrays "
                        "together, as if they were one long vector")
            return [msg], n
        # 2. in place: the same array objects must hold the result
        replaced = [k for k in arrays if grads.get(k) is not arrays[k]]
        if replaced:
            return [f"grads[{replaced[0]!r}] is a new array after your function {where}: modify the "
                    "arrays in place (e.g. `g *= factor` for each g in grads.values()), as "
                    "optim.clip_grad_norm does, because a model keeps references to its own arrays"], n
        # 3. the values
        after = {k: arrays[k] for k in arrays}
        if not all(np.all(np.isfinite(g)) for g in after.values()):
            return [f"your clipped gradient contains NaN or inf {where}"], n
        new_norm = _ch02_flat_norm(after)
        if norm <= max_norm:
            if not all(np.array_equal(after[k], before[k]) for k in before):
                return [f"the gradient was changed although its norm {norm:.4g} is already below "
                        f"max_norm {max_norm:.4g} (its norm is now {new_norm:.4g}) {where}: clipping "
                        "only ever SHRINKS a gradient; leave it untouched when norm <= max_norm"], n
            continue
        # PyTorch's factor max_norm / (norm + 1e-6) is right too: accept any norm between it and
        # max_norm. (An eps in the denominator only guards a division that `norm > max_norm`
        # already guards.)
        lowest = max_norm * norm / (norm + _CH02_EPS)
        if lowest * (1 - 1e-9) <= new_norm <= max_norm * (1 + 1e-7):
            # right length; is the direction the same?
            for k in before:
                errs = compare(f"clipped grads[{k!r}]", after[k], before[k] * (new_norm / norm), 1e-7)
                if errs:
                    return [errs[0] + f" {where}; the norm is right but the direction changed: every "
                            "array must be multiplied by the SAME factor max_norm / norm"], n
            continue
        msg = (f"your clipped gradient has norm {new_norm:.6g} but should have {max_norm:.6g} "
               f"(it was {norm:.6g} before clipping) {where}")
        same_factor = all(np.allclose(after[k], before[k] * (new_norm / norm), rtol=1e-7, atol=0)
                          for k in before)
        if _ch02_value_clipped(before, after, max_norm):
            msg += ("; you clipped every ENTRY to [-max_norm, max_norm] (value clipping, as "
                    "clip_grad_value does): that changes the direction and does not bound the "
                    "norm; norm clipping multiplies all arrays by one factor max_norm / norm")
        elif np.isclose(new_norm, norm ** 2 / max_norm, rtol=1e-6):
            msg += ("; did you multiply by norm / max_norm instead of max_norm / norm? That "
                    "factor is > 1 here, so it ENLARGES an exploding gradient")
        elif np.isclose(new_norm, norm, rtol=1e-9):
            msg += "; the gradient was not changed at all: rescale it when norm > max_norm"
        elif all(np.linalg.norm(after[k]) <= max_norm * (1 + 1e-7) for k in after) and any(
                np.isclose(np.linalg.norm(after[k]), max_norm, rtol=1e-6) for k in after):
            msg += ("; it looks like each array was clipped on its own: use ONE global norm over "
                    "all arrays and one common factor")
        elif np.isclose(new_norm, 1.0, rtol=1e-6) and not np.isclose(max_norm, 1.0, rtol=1e-3):
            msg += "; you normalised the gradient to length 1: multiply by max_norm / norm"
        elif same_factor and 0.5 * max_norm < new_norm < max_norm:
            eps = max_norm * norm / new_norm - norm
            msg += (f"; your factor is max_norm / (norm + {eps:.1g}): an eps in the denominator "
                    f"up to {_CH02_EPS:.0e} (PyTorch's) is accepted, but this one leaves the norm "
                    f"{1 - new_norm / max_norm:.1e} (relative) below max_norm")
        return [msg], n

    # 4. an all-zero gradient: norm 0, nothing to do, and above all no 0/0
    n += 1
    grads = {"Wx": np.zeros((3, 6)), "Wh": np.zeros((6, 6)), "b": np.zeros(6)}
    arrays = dict(grads)
    try:
        returned = _ch02_call_quietly(student_fn, grads, 1.0)
    except ZeroDivisionError:
        return ["ZeroDivisionError for an all-zero gradient — guard the division: rescale only when "
                "norm > max_norm (then norm is positive), never divide by a zero norm"], n
    if any(not np.all(np.isfinite(g)) for g in list(arrays.values()) + list(grads.values())):
        return ["NaN for an all-zero gradient — guard the division: rescale only when norm > max_norm "
                "(then norm is positive), never divide by a zero norm"], n
    if returned is None or not np.isfinite(float(returned)) or float(returned) != 0.0:
        return [f"for an all-zero gradient your function returned {returned!r}; the norm is 0.0"], n
    if any(np.any(g != 0) for g in list(arrays.values()) + list(grads.values())):
        return ["an all-zero gradient must stay all zeros"], n
    return [], n


def _ch02_linear_rnn_jacobian_norm(scale, T, H=16, seed=0):
    """||dh_T/dh_0||_2 measured for the linear RNN h_t = h_{t-1} (scale Q) + x_t Wx.

    dh_t/dh_{t-1} = Wh^T, so dh_T/dh_0 = (Wh^T)^T: multiplied out step by step
    and its largest singular value taken (no formula used).
    """
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((H, H)))
    Wh = scale * q * np.sign(np.diag(r))
    J = np.eye(H)
    for _ in range(int(T)):
        J = Wh.T @ J
    return float(np.linalg.norm(J, 2))


@register("predict_gradient_norm")
def _check_predict_gradient_norm(student_fn, rng):
    """predict_gradient_norm(scale, T) -> ||dh_T/dh_0|| for a linear RNN with Wh = scale * Q.

    A plain number is accepted too: it is compared with the case scale = 0.9, T = 50.
    """
    cases = [(0.9, 50), (1.1, 50), (1.0, 100), (0.5, 10), (1.3, 7), (0.9, 1)]
    cases += [(round(float(rng.uniform(0.6, 1.4)), 3), int(rng.integers(2, 80))) for _ in range(3)]
    if not callable(student_fn):
        cases, fn = cases[:1], (lambda scale, T: student_fn)
    else:
        fn = student_fn
    H = 16
    for n, (scale, T) in enumerate(cases, start=1):
        measured = _ch02_linear_rnn_jacobian_norm(scale, T, H=H)
        got = _ch02_call_quietly(fn, scale, T)
        where = f"[scale = {scale}, T = {T}]"
        if got is None:
            return [f"your prediction is None {where}: return a number"], n
        try:
            got = float(got)
        except (TypeError, ValueError):
            return [f"your prediction is a {type(got).__name__}, expected a float {where}"], n
        if np.isfinite(got) and abs(got - measured) <= 1e-6 * abs(measured):
            continue
        msg = f"you predicted {got:.6g} but the measured ||dh_T/dh_0|| is {measured:.6g} {where}"
        hints = [
            (scale * T, "that is scale * T: the T Jacobians are MULTIPLIED, so the scale is raised to a power"),
            (scale ** (T - 1), "that is scale**(T-1): from h_0 to h_T there are T steps, hence T Jacobians"),
            (scale ** (T + 1), "that is scale**(T+1): from h_0 to h_T there are T steps, hence T Jacobians"),
            (np.sqrt(H) * scale ** T, "that is the Frobenius norm (sqrt(H) times too large); use the "
                                       "spectral norm, the largest singular value"),
            (np.exp(-scale * T), "where does exp come from? Each step multiplies by Wh^T"),
            (scale, "that is the norm of ONE Jacobian; there are T of them"),
        ]
        for value, hint in hints:
            if value != measured and np.isfinite(got) and abs(got - value) <= 1e-6 * abs(value):
                msg += f"; {hint}"
                break
        return [msg], n
    return [], len(cases)


def _ch02_tanh_rnn_case(rng, H, T, scale):
    """Random tanh-RNN data: Wh, the hidden states hs = h_1..h_T (T, H), and the reference norm.

    The reference Jacobian dh_T/dh_0 comes from the package's rnn_backward: run
    the sequence H times as a batch and send the H unit vectors back from h_T,
    so row k of dh0 is row k of the Jacobian.
    """
    from ..rnn import rnn_backward, rnn_forward
    D = 3
    Wh = scale * rng.standard_normal((H, H)) / np.sqrt(H)
    Wx = rng.standard_normal((D, H)) / np.sqrt(D)
    b = 0.1 * rng.standard_normal(H)
    x = rng.standard_normal((1, T, D))
    h0 = 0.5 * rng.standard_normal((1, H))
    h, cache = rnn_forward(np.repeat(x, H, axis=0), np.repeat(h0, H, axis=0), Wx, Wh, b)
    dh = np.zeros_like(h)
    dh[:, -1] = np.eye(H)
    _, jac, _, _, _ = rnn_backward(dh, cache)
    return Wh, h[0].copy(), float(np.linalg.norm(jac, 2))


@register("tanh_rnn_jacobian_norm")
def _check_tanh_rnn_jacobian_norm(student_fn, rng):
    """tanh_rnn_jacobian_norm(Wh (H, H), hs (T, H)) -> ||dh_T/dh_0||_2 (spectral norm)."""
    cases = [(3, 5, 1.0), (4, 1, 1.0), (5, 12, 2.0), (8, 30, 0.8), (6, 20, 3.0)]
    for n, (H, T, scale) in enumerate(cases, start=1):
        Wh, hs, ref = _ch02_tanh_rnn_case(rng, H, T, scale)
        got = _ch02_call_quietly(student_fn, Wh.copy(), hs.copy())
        where = f"[H = {H}, T = {T}]"
        if got is None:
            return [f"your function returned None {where}: return ||dh_T/dh_0|| as a float"], n
        try:
            got = float(got)
        except (TypeError, ValueError):
            return [f"your function returned a {type(got).__name__} {where}; expected one float, "
                    "the spectral norm of the (H, H) Jacobian"], n
        if np.isfinite(got) and abs(got - ref) <= 1e-7 * abs(ref):
            continue
        msg = f"||dh_T/dh_0|| is {got:.6g}, expected {ref:.6g} {where}"

        def prod(mats, reverse=False):
            M = np.eye(H)
            for A in mats:
                M = M @ A if reverse else A @ M
            return M

        d = 1.0 - hs ** 2
        J = [np.diag(d[t]) @ Wh.T for t in range(T)]
        alts = [
            (np.linalg.norm(prod(J), "fro"), "that is the Frobenius norm; use the spectral norm "
                                              "np.linalg.norm(J, 2) (the largest singular value)"),
            (np.linalg.norm(prod([np.diag(d[t]) @ Wh for t in range(T)]), 2),
             "Wh is not transposed: in the row convention h_t = tanh(x_t Wx + h_{t-1} Wh + b) the "
             "one-step Jacobian is diag(1 - h_t^2) Wh^T"),
            (np.linalg.norm(prod([Wh.T] * T), 2), "that is the norm of the LINEAR RNN: you left out "
                                                  "the tanh derivative diag(1 - h_t^2)"),
            (np.linalg.norm(prod([np.diag(1 - hs[t]) @ Wh.T for t in range(T)]), 2),
             "tanh'(a) = 1 - tanh(a)^2 = 1 - h_t**2, not 1 - h_t"),
            (np.linalg.norm(prod(J[1:]), 2),
             "only T-1 Jacobians were multiplied: h_0 -> h_T takes T steps, and step t uses h_t = hs[t-1]"),
            (np.linalg.norm(prod([np.diag(1 - np.vstack([np.zeros((1, H)), hs])[t] ** 2) @ Wh.T
                                  for t in range(T)]), 2),
             "the tanh derivative of step t must use the OUTPUT of that step, h_t = hs[t-1] "
             "(you used the previous state)"),
            (np.linalg.norm(prod(J, reverse=True), 2), "the Jacobians are multiplied in the wrong "
                                                       "order: dh_T/dh_0 = J_T J_{T-1} ... J_1"),
        ]
        for value, hint in alts:
            if np.isfinite(value) and not np.isclose(value, ref, rtol=1e-6) and np.isfinite(got) \
                    and abs(got - value) <= 1e-6 * abs(value):
                msg += f"; {hint}"
                break
        return [msg], n
    return [], len(cases)
