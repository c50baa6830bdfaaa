"""Exercise checks for chapter 04: gates."""
import numpy as np

from ._core import compare, register


# Checks: lstm_step_forward, lstm_step_forward_no_forget, lstm_step_snippet,
# gate_saturation. When an answer is wrong, the ch. 4 checks try a list of
# typical mistakes (another gate order, tanh/sigmoid swapped, o*c instead of
# o*tanh(c), h and c mixed up, ...) and name the one the answer matches.
import itertools as _ch04_itertools

from ..activations import sigmoid as _ch04_sigmoid

_CH04_GATES = ("i", "f", "o", "g")
_CH04_SHAPES = ((2, 3, 4), (1, 5, 2), (4, 2, 3))   # (N, D, H)


def _ch04_lstm_variant(x, prev_h, prev_c, Wx, Wh, b, *, order=_CH04_GATES,
                       forget_gate=True, g_act="tanh", gate_act="sigmoid",
                       h_mode="o*tanh(c)", c_mode="f*prev_c", a_mode="x,prev_h",
                       f_const=None):
    """One LSTM step with a chosen *mistake*, used only to diagnose wrong answers.

    ``order`` says which gate each of the four column blocks of the weights is
    read as (the course's order is i, f, o, g).
    """
    H = Wh.shape[0]
    if a_mode == "x,prev_h":
        a = x @ Wx + prev_h @ Wh + b
    elif a_mode == "x,prev_c":
        a = x @ Wx + prev_c @ Wh + b
    elif a_mode == "no bias":
        a = x @ Wx + prev_h @ Wh
    elif a_mode == "no recurrence":
        a = x @ Wx + b
    blocks = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    sq = _ch04_sigmoid if gate_act == "sigmoid" else np.tanh
    i, o = sq(blocks["i"]), sq(blocks["o"])
    f = sq(blocks["f"]) if forget_gate else np.ones_like(i)
    if f_const is not None:
        f = np.full_like(i, f_const)
    g = np.tanh(blocks["g"]) if g_act == "tanh" else _ch04_sigmoid(blocks["g"])
    old = prev_c if c_mode == "f*prev_c" else prev_h
    c = f * old + i * g
    if h_mode == "o*tanh(c)":
        h = o * np.tanh(c)
    elif h_mode == "o*c":
        h = o * c
    elif h_mode == "tanh(o*c)":
        h = np.tanh(o * c)
    elif h_mode == "o*tanh(prev_c)":
        h = o * np.tanh(prev_c)
    return h, c


def _ch04_mistakes(forget_gate):
    """(description, kwargs) of typical mistakes, most specific first."""
    out = []
    for perm in _ch04_itertools.permutations(_CH04_GATES):
        if perm != _CH04_GATES:
            out.append((
                f"your output matches an LSTM whose column blocks are read in the gate "
                f"order {', '.join(perm)}; the course uses i, f, o, g (columns 0:H are i, "
                f"H:2H are f, 2H:3H are o, 3H:4H are g)",
                dict(order=perm)))
    out += [
        ("your output matches an LSTM whose candidate g uses a sigmoid; g = tanh(a_g) "
         "(values in (-1, 1), so the cell can be written down as well as up)",
         dict(g_act="sigmoid")),
        ("your output matches an LSTM whose gates i, f, o use tanh; gates use the sigmoid "
         "so that they lie in (0, 1)", dict(gate_act="tanh")),
        ("your output matches h = o * c; the output is h = o * tanh(c) (squash the cell "
         "state before the output gate scales it)", dict(h_mode="o*c")),
        ("your output matches h = tanh(o * c); the output is h = o * tanh(c)",
         dict(h_mode="tanh(o*c)")),
        ("your next_h uses the OLD cell state: h_t = o * tanh(c_t) needs the new c_t",
         dict(h_mode="o*tanh(prev_c)")),
        ("your output matches an LSTM that uses prev_h where prev_c belongs in the cell "
         "update: c_t = f * c_{t-1} + i * g keeps the previous CELL state",
         dict(c_mode="f*prev_h")),
        ("your output matches an LSTM whose gates read prev_c instead of prev_h: "
         "a = x Wx + h_{t-1} Wh + b uses the previous HIDDEN state",
         dict(a_mode="x,prev_c")),
        ("your output matches an LSTM without the bias b in a = x Wx + h_{t-1} Wh + b",
         dict(a_mode="no bias")),
        ("your output matches an LSTM without the recurrent term h_{t-1} Wh",
         dict(a_mode="no recurrence")),
    ]
    if forget_gate:
        out.append(("your output matches an LSTM without a forget gate (f = 1): "
                    "compute f = sigmoid(a_f) from columns H:2H and use c_t = f * c_{t-1} + i * g",
                    dict(forget_gate=False)))
    else:
        out.append(("your output matches the LSTM WITH a forget gate; the 1997 LSTM has "
                    "none: c_t = c_{t-1} + i * g, and columns H:2H are not used",
                    dict(forget_gate=True)))
        out.append(("your cell forgets everything (c_t = i * g): without a forget gate "
                    "the old state is kept in full, c_t = c_{t-1} + i * g",
                    dict(forget_gate=True, f_const=0.0)))
    return [(msg, dict(kw, forget_gate=kw.get("forget_gate", forget_gate))) for msg, kw in out]


def _ch04_as_pair(result, names=("next_h", "next_c")):
    """The first two entries of a student's return value, or a problem message."""
    if result is None:
        return None, "your function returned None (did you forget to return next_h, next_c?)"
    if isinstance(result, np.ndarray) or not isinstance(result, (tuple, list)) or len(result) < 2:
        return None, (f"return a tuple whose first two entries are {names[0]} and {names[1]} "
                      f"(got {type(result).__name__})")
    return (result[0], result[1]), None


def _ch04_random_case(rng, N, D, H, scale=1.0):
    x = rng.standard_normal((N, D))
    prev_h = rng.standard_normal((N, H)) * 0.8
    prev_c = rng.standard_normal((N, H)) * 1.5
    Wx = rng.standard_normal((D, 4 * H)) * scale
    Wh = rng.standard_normal((H, 4 * H)) * scale
    b = rng.standard_normal(4 * H) * scale
    return x, prev_h, prev_c, Wx, Wh, b


def _ch04_diagnose(got_h, got_c, args, forget_gate, mistakes=None):
    """Name the typical mistake that reproduces (got_h, got_c), if any."""
    got_h, got_c = np.asarray(got_h), np.asarray(got_c)
    for msg, kw in (mistakes if mistakes is not None else _ch04_mistakes(forget_gate)):
        h, c = _ch04_lstm_variant(*args, **kw)
        if h.shape == got_h.shape and c.shape == got_c.shape and \
                np.allclose(got_h, h, rtol=1e-6, atol=1e-9) and \
                np.allclose(got_c, c, rtol=1e-6, atol=1e-9):
            return msg
    # swapped return values
    h, c = _ch04_lstm_variant(*args, forget_gate=forget_gate)
    if got_h.shape == c.shape and np.allclose(got_h, c, rtol=1e-6, atol=1e-9) and \
            np.allclose(got_c, h, rtol=1e-6, atol=1e-9):
        return "you returned (next_c, next_h); return next_h first, then next_c"
    return None


def _ch04_check_step(student_fn, rng, forget_gate):
    problems, n = [], 0
    for N, D, H in _CH04_SHAPES:
        args = _ch04_random_case(rng, N, D, H)
        from ..lstm import lstm_step_forward as _ref
        ref_h, ref_c, _ = _ref(*args, forget_gate=forget_gate)
        result = student_fn(*(np.copy(a) for a in args))
        n += 1
        pair, msg = _ch04_as_pair(result)
        if msg:
            return [msg], n
        got_h, got_c = pair
        errs = compare("next_h", got_h, ref_h, 1e-7) + compare("next_c", got_c, ref_c, 1e-7)
        if errs:
            hint = None
            if not any("shape" in e or "None" in e or "NaN" in e for e in errs):
                hint = _ch04_diagnose(got_h, got_c, args, forget_gate)
            where = f"(N, D, H) = {(N, D, H)}"
            return [f"{e}  [test with {where}]" for e in errs] + \
                ([f"diagnosis: {hint}"] if hint else []), n
    # the state must not be modified in place
    args = _ch04_random_case(rng, 2, 3, 4)
    copies = [np.copy(a) for a in args]
    student_fn(*args)
    n += 1
    for name, a, c0 in zip(("x", "prev_h", "prev_c", "Wx", "Wh", "b"), args, copies):
        if not np.array_equal(a, c0):
            problems.append(f"your function modified its input {name} in place; "
                            "compute new arrays instead")
    return problems, n


@register("lstm_step_forward")
def _check_lstm_step_forward(student_fn, rng):
    """``student_fn(x, prev_h, prev_c, Wx, Wh, b)`` -> (next_h, next_c, ...)."""
    return _ch04_check_step(student_fn, rng, forget_gate=True)


@register("lstm_step_forward_no_forget")
def _check_lstm_step_forward_no_forget(student_fn, rng):
    """The 1997 LSTM (f = 1; columns H:2H unused) -> (next_h, next_c, ...)."""
    problems, n = _ch04_check_step(student_fn, rng, forget_gate=False)
    if problems:
        return problems, n
    # the f block must really be ignored
    args = list(_ch04_random_case(rng, 2, 3, 4))
    h1, c1 = _ch04_as_pair(student_fn(*args))[0] or (None, None)
    args[3] = args[3].copy()
    args[3][:, 4:8] += 3.0
    args[5] = args[5].copy()
    args[5][4:8] -= 3.0
    h2, c2 = _ch04_as_pair(student_fn(*args))[0] or (None, None)
    n += 1
    if h1 is not None and h2 is not None and not (np.allclose(h1, h2) and np.allclose(c1, c2)):
        problems.append("your output changes when the forget-gate columns H:2H of Wx and b "
                        "change; the 1997 LSTM has no forget gate and must ignore them")
    return problems, n


def _ch04_snippet_to_course(W, U, b):
    """(4H, D), (4H, H), (4H,) in block order a(=g), i, f, o -> Wx, Wh, b in i, f, o, g."""
    H = U.shape[1]

    def reorder(m):  # last axis in blocks a, i, f, o -> i, f, o, a
        blocks = [m[..., k * H:(k + 1) * H] for k in range(4)]
        return np.concatenate(blocks[1:] + blocks[:1], axis=-1)
    return reorder(W.T), reorder(U.T), reorder(b)


def _ch04_squashed_twice(x, prev_h, prev_c, Wx, Wh, b, *, prev="prev_c"):
    """The snippet with its second squashing kept: sigmoid(sigmoid(.)) gates, tanh(tanh(.)) candidate."""
    a_i, a_f, a_o, a_g = np.split(x @ Wx + prev_h @ Wh + b, 4, axis=1)
    i, f, o = (_ch04_sigmoid(_ch04_sigmoid(z)) for z in (a_i, a_f, a_o))
    g = np.tanh(np.tanh(a_g))
    c = f * prev_c + i * g
    return o * np.tanh(c), c


def _ch04_pair_matches(got_h, got_c, h, c):
    return np.shape(got_h) == h.shape and np.shape(got_c) == c.shape and \
        np.allclose(got_h, h) and np.allclose(got_c, c)


@register("lstm_step_snippet")
def _check_lstm_step_snippet(student_fn, rng):
    """The fixed snippet: ``student_fn(x, prev_h, prev_c, W, U, b)`` -> (h, c, ...)
    with W (4H, D), U (4H, H), b (4H,), blocks in the snippet's order a, i, f, o.

    The snippet of chapter 4's exercise (the Japanese notes' step) has two bugs: the cell
    update reads ``c`` where ``prev_c`` belongs, and the four blocks are squashed twice
    (by ``_activation`` and again after the split). It also returns ``(c, h)``; the
    course's order is ``(h, c)``."""
    from ..lstm import lstm_step_forward as _ref
    n = 0
    for N, D, H in _CH04_SHAPES:
        x = rng.standard_normal((N, D))
        prev_h = rng.standard_normal((N, H)) * 0.8
        prev_c = rng.standard_normal((N, H)) * 1.5
        W = rng.standard_normal((4 * H, D))
        U = rng.standard_normal((4 * H, H))
        b = rng.standard_normal(4 * H)
        Wx, Wh, bb = _ch04_snippet_to_course(W, U, b)
        ref_h, ref_c, _ = _ref(x, prev_h, prev_c, Wx, Wh, bb)
        n += 1
        try:
            result = student_fn(x.copy(), prev_h.copy(), prev_c.copy(), W.copy(), U.copy(), b.copy())
        except UnboundLocalError as exc:
            return [f"your function raised UnboundLocalError ({exc}): a variable is read "
                    "before it is assigned. Look at the right-hand side of the cell "
                    "update: which variable holds the PREVIOUS cell state?"], n
        pair, msg = _ch04_as_pair(result, ("h", "c"))
        if msg:
            return [msg], n
        got_h, got_c = pair
        errs = compare("h", got_h, ref_h, 1e-7) + compare("c", got_c, ref_c, 1e-7)
        if errs:
            args = (x, prev_h, prev_c, Wx, Wh, bb)
            if _ch04_pair_matches(got_c, got_h, ref_h, ref_c):
                return errs + ["diagnosis: your step is right, but it returns (c, h) as the "
                               "notes do; return the hidden state first, (h, c)"], n
            twice_h, twice_c = _ch04_squashed_twice(*args)
            if _ch04_pair_matches(got_h, got_c, twice_h, twice_c) or \
                    _ch04_pair_matches(got_c, got_h, twice_h, twice_c):
                return errs + ["diagnosis: your gates are squashed twice: _activation already "
                               "applies tanh to the block a and the sigmoid to i, f, o, so "
                               "np.tanh / _sigmoid after the split squash them a second time "
                               "(sigmoid(sigmoid(z)) is always between 0.5 and 0.73). Keep "
                               "exactly one squashing"], n
            # the "naive" reading of the activation: it wraps only x W^T
            a_in = _ch04_snippet_to_course(W, np.zeros_like(U), np.zeros_like(b))
            zi, zf, zo, za = np.split(x @ a_in[0], 4, axis=1)
            rest = prev_h @ Wh + bb
            ri, rf, ro, ra = np.split(rest, 4, axis=1)
            i, f, o = _ch04_sigmoid(zi) + ri, _ch04_sigmoid(zf) + rf, _ch04_sigmoid(zo) + ro
            g = np.tanh(za) + ra
            naive_c = f * prev_c + i * g
            naive_h = o * np.tanh(naive_c)
            if np.shape(got_c) == naive_c.shape and np.allclose(got_c, naive_c) and \
                    np.allclose(got_h, naive_h):
                return errs + ["diagnosis: your _activation wraps only x.dot(W.T); the "
                               "recurrent part and the bias are added AFTER the squashing, "
                               "so your 'gates' are not in (0, 1). Move the parenthesis so "
                               "that _activation gets the whole pre-activation"], n
            hint = _ch04_diagnose(got_h, got_c, args, True,
                                  [m for m in _ch04_mistakes(True) if "order" not in m[1]])
            if hint is None:
                for perm in _ch04_itertools.permutations(_CH04_GATES):
                    h_, c_ = _ch04_lstm_variant(*args, order=perm)
                    if np.shape(got_h) == h_.shape and np.allclose(got_h, h_) and np.allclose(got_c, c_):
                        hint = ("your output matches the snippet with its four blocks used in "
                                "another order. Keep `a, i, f, o = np.hsplit(lstm_in, 4)`: "
                                "_activation applies tanh to the first block (the candidate a) "
                                "and the sigmoid to the other three (the gates i, f, o)")
                        break
            return errs + ([f"diagnosis: {hint}"] if hint else []), n
    return [], n


@register("gate_saturation")
def _check_gate_saturation(student_fn, rng):
    """``student_fn(x, h, W, b)`` -> (a, s, ds): a = [x, h] W + b, s = sigmoid(a),
    ds = sigmoid'(a), in the book's row convention: x (D,), h (H,), W (D + H, H), b (H,)."""
    cases = [(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]),
              np.array([[1.0, 2.0, 3.0]] * 6), np.ones(3))]
    for D, H in ((2, 3), (4, 2), (3, 3)):
        cases.append((rng.standard_normal(D) * 2, rng.standard_normal(H) * 2,
                      rng.standard_normal((D + H, H)), rng.standard_normal(H)))
    n = 0
    # random cases first: the worked example alone cannot tell tanh from sigmoid
    order = list(range(1, len(cases))) + [0]
    for k in order:
        x, h, W, b = cases[k]
        D = x.shape[0]
        a = x @ W[:D] + h @ W[D:] + b
        s = _ch04_sigmoid(a)
        e = np.exp(-np.abs(a))
        ds = e / (1.0 + e) ** 2          # sigmoid'(a), accurate even when s rounds to 1
        result = student_fn(x.copy(), h.copy(), W.copy(), b.copy())
        n += 1
        which = "the worked example" if k == 0 else f"a random test with D={D}, H={h.shape[0]}"
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            return [f"return the tuple (a, s, ds) (got {type(result).__name__})"], n
        got_a, got_s, got_ds = (np.asarray(r, dtype=float) if r is not None else None for r in result)
        errs = compare("a (pre-activation)", got_a, a, 1e-9)
        if errs:
            if got_a is not None and got_a.shape == a.shape:
                swapped = np.concatenate([h, x]) @ W + b      # [h, x]: fits W for any D, H
                if np.allclose(got_a, swapped, rtol=1e-9, atol=1e-12):
                    errs.append("diagnosis: you multiplied [h, x] with W; W acts on the row "
                                "[x, h] (x first, the book's convention): its first D rows multiply x")
                elif np.allclose(got_a, a - b):
                    errs.append("diagnosis: you forgot the bias b")
            return [f"{e}  [{which}]" for e in errs], n
        errs = compare("s = sigmoid(a)", got_s, s, 1e-9)
        if errs:
            return [f"{e}  [{which}]" for e in errs], n
        got_ds = None if got_ds is None else got_ds
        if got_ds is None:
            return ["ds: your function returned None"], n
        if got_ds.shape != ds.shape:
            return [f"ds: shape {got_ds.shape}, expected {ds.shape}"], n
        # absolute tolerance: s * (1 - s) is 0 in float64 once s rounds to 1
        bad = np.abs(got_ds - ds) > 1e-12 + 1e-6 * np.abs(ds)
        if np.any(bad):
            j = int(np.argmax(bad))
            msg = (f"ds = sigmoid'(a): entry {j} is {got_ds[j]:.6g}, expected {ds[j]:.6g} "
                   f"(at a = {a[j]:.4g})  [{which}]")
            if np.allclose(got_ds, a * (1 - a)):
                msg += "; diagnosis: sigmoid'(a) = s (1 - s) with s = sigmoid(a), not a (1 - a)"
            elif np.allclose(got_ds, s):
                msg += "; diagnosis: that is sigmoid(a) itself, not its derivative"
            return [msg], n
    return [], n
