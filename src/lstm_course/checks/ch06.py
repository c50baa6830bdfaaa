"""Exercise checks for chapter 06: LSTM backpropagation through time."""
import numpy as np

from . import _diagnose as dg
from ._bptt import LOOP_HINTS, bptt_variant
from ._core import compare, compare_numerical, register
from ._core import normwise_rel_error as _ch06_normwise
from ._lstm_bugs import STEP_BUGS, gate_order_variants, step_variant


# Checks: lstm_step_backward, lstm_backward, gradcheck_finds_swapped_gates,
# gradient_streams. A wrong answer is diagnosed by the engine of _diagnose.py: first
# the hypotheses (the reference with one typical mistake, _lstm_bugs.py and _bptt.py)
# that reproduce the student's outputs exactly; then what the outputs themselves show
# (the gate blocks of dWx and db, a constant factor, one step's contribution, the error
# map per step and gate). Only wrong outputs and wrong gates are ever named.
# Helpers are prefixed _ch06_.
_CH06_GATES = ("i", "f", "o", "g")
_CH06_STEP_OUT = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")
_CH06_SEQ_OUT = ("dx", "dh0", "dWx", "dWh", "db")
_CH06_GATE_HINTS = {
    "i": "check di = dc * g and da_i = di * i * (1 - i)",
    "f": "check df = dc * prev_c (the OLD cell state) and da_f = df * f * (1 - f)",
    "o": "check do = dnext_h * tanh_c (tanh of the NEW cell state c_t) and "
         "da_o = do * o * (1 - o)",
    "g": "check dg = dc * i and da_g = dg * (1 - g**2)",
}
_CH06_DC_LINE = ("gates i, f and g are wrong but o is right: these three receive their error "
                 "through the cell state, so dc is wrong — dc = dnext_c + dnext_h * o * "
                 "(1 - tanh_c**2)")


def _ch06_close(a, b, tol=1e-7):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and _ch06_normwise(a, b) <= tol


def _ch06_case(rng, N, D, H, scale=0.6):
    x = rng.standard_normal((N, D))
    prev_h = np.tanh(rng.standard_normal((N, H)))
    prev_c = rng.standard_normal((N, H))
    Wx = rng.standard_normal((D, 4 * H)) * scale
    Wh = rng.standard_normal((H, 4 * H)) * scale
    b = rng.standard_normal(4 * H) * scale
    return x, prev_h, prev_c, Wx, Wh, b


def _ch06_copy_cache(cache):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in cache.items()}


def _ch06_unpack(result, names):
    """The student's tuple, or a problem message."""
    if result is None:
        return None, [f"your function returned None; return the tuple ({', '.join(names)})"]
    if isinstance(result, np.ndarray) or not isinstance(result, (tuple, list)):
        return None, [f"return a tuple ({', '.join(names)}), got {type(result).__name__}"]
    if len(result) < len(names):
        return None, [f"your function returned {len(result)} values; expected {len(names)}: "
                      f"({', '.join(names)})"]
    return tuple(result[:len(names)]), []


_ch06_step_variant = step_variant          # used by the gradient-check exercise below


def _ch06_step_hypotheses(dnext_h, dnext_c, cache):
    """{sentence: outputs} of every typical step-backward mistake."""
    hyps = {msg: step_variant(dnext_h, dnext_c, cache, bug) for bug, msg in STEP_BUGS.items()}
    for order, msg in gate_order_variants():
        hyps[msg] = step_variant(dnext_h, dnext_c, cache, order=order)
    return hyps


def _ch06_gate_errors(got, expected, H):
    """Per gate: normwise relative error over its column blocks of dWx, dWh and db."""
    errs = {}
    for k, gate in enumerate(_CH06_GATES):
        cols = slice(k * H, (k + 1) * H)
        g_ = np.concatenate([np.ravel(np.asarray(got[j])[..., cols]) for j in (3, 4, 5)])
        e_ = np.concatenate([np.ravel(np.asarray(expected[j])[..., cols]) for j in (3, 4, 5)])
        errs[gate] = _ch06_normwise(g_, e_)
    return errs


def _ch06_gate_feedback(got, expected, H):
    """Gate sentences, only for gates that are wrong where a gate error shows.

    dWx = x^T da and db = sum da depend on the step's inputs and on da alone: a gate of
    da is wrong when its column blocks are wrong in both. When no gate is wrong, da is
    right, and a wrong dWx, dWh or db is a mistake of that output's own line.
    """
    if any(np.shape(got[j]) != np.shape(expected[j]) for j in (3, 4, 5)):
        return []
    errs = dict(zip(_CH06_GATES, np.minimum(dg.block_errors(got[3], expected[3]),
                                            dg.block_errors(got[5], expected[5]))))
    wrong = [g for g in _CH06_GATES if errs[g] > dg.RIGHT]
    if not wrong:
        bad = [n for n, g_, e_ in zip(_CH06_STEP_OUT, got, expected) if not dg.same(g_, e_)]
        own = [n for n in bad if n in ("dWx", "dWh", "db")]
        if own and len(own) == len(bad):
            right = [n for n in _CH06_STEP_OUT if n not in bad]
            why = {"dWx": "dWx = x.T @ da", "dWh": "dWh = prev_h.T @ da: Wh multiplies h_{t-1}",
                   "db": "db = da summed over the batch"}
            return [f"{', '.join(right)} are right, so da is right in all four gates: the "
                    f"mistake is in the line for {' and '.join(own)} itself ("
                    + "; ".join(why[n] for n in own) + ")"]
        return []
    if wrong == ["i", "f", "g"]:
        return [_CH06_DC_LINE]
    out = []
    for gate in wrong:
        cols = ("0:H", "H:2H", "2H:3H", "3H:4H")[_CH06_GATES.index(gate)]
        out.append(f"the {gate} gate's gradient is wrong (relative error {errs[gate]:.1e} in "
                   f"its columns {cols} of dWx and db) — {_CH06_GATE_HINTS[gate]}")
    return out


def _ch06_pattern_feedback(names, got, expected, N=None, T=None, per_step=None):
    """Sentences for wrong outputs that no hypothesis explains: factor, transpose, one step."""
    out, one_step = [], {}
    for k, (name, g_, e_) in enumerate(zip(names, got, expected)):
        if dg.same(g_, e_) or np.shape(g_) != np.shape(e_):
            continue
        t = dg.single_step(g_, [p[k - 2] for p in per_step]) if per_step and k >= 2 else None
        c = dg.constant_factor(g_, e_)
        if t is not None:
            one_step.setdefault(t, []).append(name)
        elif c is not None:
            out.append(f"{name} is {dg.name_factor(c, N, T)}")
        elif dg.is_transpose(g_, e_):
            out.append(f"{name} is the transpose of the right gradient: check the order of the "
                       "factors")
    for t, which in one_step.items():
        out.insert(0, f"{_ch06_and(which)} {'equals' if len(which) == 1 else 'equal'} the "
                      f"contribution of step t = {t} alone: Wx, Wh and b are shared by all T "
                      "steps, so their gradients are SUMMED over t")
    return out


def _ch06_and(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@register("lstm_step_backward")
def _check_lstm_step_backward(student_fn, rng):
    """lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)."""
    from ..gradcheck import eval_numerical_gradient_array
    from ..lstm import lstm_step_backward as _ref_bwd
    from ..lstm import lstm_step_forward as _ref_fwd

    n = 0
    for N, D, H in [(3, 4, 5), (2, 3, 2), (1, 2, 3), (4, 5, 4)]:
        args = _ch06_case(rng, N, D, H)
        _, _, cache = _ref_fwd(*args)
        dnext_h = rng.standard_normal((N, H))
        dnext_c = rng.standard_normal((N, H))
        expected = _ref_bwd(dnext_h, dnext_c, cache)
        got, problems = _ch06_unpack(
            student_fn(dnext_h.copy(), dnext_c.copy(), _ch06_copy_cache(cache)), _CH06_STEP_OUT)
        n += 1
        if problems:
            return problems, n
        where = f"(N, D, H) = {(N, D, H)}"
        for name, g_, e_ in zip(_CH06_STEP_OUT, got, expected):
            problems += compare(f"{name} {where}", g_, e_, 1e-7)
        if problems:
            problems += _ch06_gate_feedback(got, expected, H)
            hint = dg.first_match(got, _ch06_step_hypotheses(dnext_h, dnext_c, cache))
            if hint:
                problems.append("diagnosis: " + hint)
            else:
                problems += _ch06_pattern_feedback(_CH06_STEP_OUT, got, expected, N=N)
            return problems, n

    # Independent of the reference: centred differences of
    # L = sum(next_h * dnext_h) + sum(next_c * dnext_c).
    N, D, H = 2, 3, 4
    x, prev_h, prev_c, Wx, Wh, b = _ch06_case(rng, N, D, H)
    _, _, cache = _ref_fwd(x, prev_h, prev_c, Wx, Wh, b)
    dnext_h, dnext_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    got, problems = _ch06_unpack(
        student_fn(dnext_h.copy(), dnext_c.copy(), _ch06_copy_cache(cache)), _CH06_STEP_OUT)
    if problems:
        return problems, n

    def loss_parts():
        h_, c_, _ = _ref_fwd(x, prev_h, prev_c, Wx, Wh, b)
        return np.concatenate([h_, c_], axis=1)
    upstream = np.concatenate([dnext_h, dnext_c], axis=1)
    for name, arr, g_ in zip(_CH06_STEP_OUT, (x, prev_h, prev_c, Wx, Wh, b), got):
        num = eval_numerical_gradient_array(loss_parts, arr, upstream)
        n += 1
        problems += compare_numerical(name, g_, num, tol=1e-7)
    return problems, n


def _ch06_forward_steps(x, h0, Wx, Wh, b):
    """Unrolled forward pass: h (N, T, H) and the list of T step caches."""
    from ..lstm import lstm_step_forward as _ref_fwd
    N, T, _ = x.shape
    H = Wh.shape[0]
    h, c = h0, np.zeros((N, H))
    hs, caches = [], []
    for t in range(T):
        h, c, cache = _ref_fwd(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def _ch06_sequence(rng, N, T, D, H):
    """A random sequence case: (dh, caches) of an unrolled forward pass."""
    x = rng.standard_normal((N, T, D))
    h0 = np.tanh(rng.standard_normal((N, H)))
    Wx = rng.standard_normal((D, 4 * H)) * 0.6
    Wh = rng.standard_normal((H, 4 * H)) * 0.6
    b = rng.standard_normal(4 * H) * 0.6
    _, caches = _ch06_forward_steps(x, h0, Wx, Wh, b)
    return rng.standard_normal((N, T, H)), caches


def _ch06_wrong_step(student_fn):
    """(name, problem) for a step backward the student's BPTT calls that is wrong, or None."""
    from ..lstm import lstm_step_backward as _ref_bwd
    from ..lstm import lstm_step_forward as _ref_fwd
    rng = np.random.default_rng(606)
    args = _ch06_case(rng, 3, 4, 5)
    _, _, cache = _ref_fwd(*args)
    dnh, dnc = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    for name, fn in dg.helpers_called(student_fn, 3):
        try:
            got = fn(dnh.copy(), dnc.copy(), _ch06_copy_cache(cache))
            if not isinstance(got, (tuple, list)) or len(got) != 6:
                continue
        except Exception:          # not a step backward
            continue
        if not all(dg.same(g_, e_, 1e-7) for g_, e_ in zip(got, _ref_bwd(dnh, dnc, cache))):
            return name
    return None


def _ch06_error_map(student_fn):
    """The error map of da per step and gate of the student's BPTT on a probe with D >= 4H."""
    from ..lstm import lstm_step_backward as _ref_bwd
    dh, caches = _ch06_sequence(np.random.default_rng(607), 2, 5, 9, 2)
    try:
        got = student_fn(dh.copy(), [_ch06_copy_cache(c) for c in caches])
        dx = np.asarray(got[0], dtype=np.float64)
    except Exception:
        return []
    expected = bptt_variant(dh, caches, _ref_bwd, cell=True)[0]
    if dx.shape != expected[0].shape or not np.all(np.isfinite(dx)):
        return []
    Wx = caches[0]["Wx"]
    emap = dg.error_map(dg.implied_da(dx, Wx), dg.implied_da(expected[0], Wx))
    pattern = dg.describe_map(emap)
    return ([pattern] if pattern else []) + [dg.format_map(emap, "the da that your dx implies")]


def _ch06_diagnose_sequence(student_fn, got, expected, dh, caches):
    """Sentences for a wrong lstm_backward: the step it calls, a hypothesis, or patterns."""
    from ..lstm import lstm_step_backward as _ref_bwd
    step_name = _ch06_wrong_step(student_fn)
    if step_name:
        msg = (f"your step backward is wrong: fix Exercise 6.1 first (check(\"lstm_step_backward\", "
               f"{step_name}) names the mistake); your BPTT calls {step_name}")
        try:
            fixed = dg.with_helper(student_fn, step_name, _ref_bwd)(dh.copy(), caches)
            if all(dg.same(g_, e_, 1e-7) for g_, e_ in zip(fixed, expected)):
                msg += ", and with the package's step backward in its place your loop is right"
        except Exception:
            pass
        return [msg]
    hyps = {}
    for mode, msg in LOOP_HINTS.items():
        outs = list(bptt_variant(dh, caches, _ref_bwd, True, mode)[0])
        if mode in ("carry_delayed", "carries_swapped"):
            outs[1] = None            # where these leave dh0 depends on how the loop is written
        hyps[msg] = tuple(outs)
    for bug, msg in STEP_BUGS.items():
        step = (lambda dnh, dnc, c, _b=bug: step_variant(dnh, dnc, c, _b))
        hyps["your BPTT matches a step backward with this mistake: " + msg] = \
            bptt_variant(dh, caches, step, True)[0]
    for order, msg in gate_order_variants():
        step = (lambda dnh, dnc, c, _o=order: step_variant(dnh, dnc, c, order=_o))
        hyps["your BPTT matches a step backward with this mistake: " + msg] = \
            bptt_variant(dh, caches, step, True)[0]
    hint = dg.first_match(got, hyps)
    if hint:
        return ["diagnosis: " + hint]
    N, T, _ = dh.shape
    per_step = bptt_variant(dh, caches, _ref_bwd, True)[1]
    out = _ch06_pattern_feedback(_CH06_SEQ_OUT, got, expected, N=N, T=T, per_step=per_step)
    if not dg.same(got[0], expected[0]):
        out += _ch06_error_map(student_fn)
    return out


@register("lstm_backward")
def _check_lstm_backward(student_fn, rng):
    """lstm_backward(dh, caches) -> (dx, dh0, dWx, dWh, db), caches = list of step caches."""
    from ..gradcheck import eval_numerical_gradient_array
    from ..lstm import lstm_backward as _ref_bwd
    from ..lstm import lstm_forward as _ref_fwd

    names = _CH06_SEQ_OUT
    n = 0
    for N, T, D, H in [(2, 4, 3, 5), (3, 1, 4, 2), (1, 6, 2, 3), (2, 5, 5, 2)]:
        x = rng.standard_normal((N, T, D))
        h0 = np.tanh(rng.standard_normal((N, H)))
        Wx = rng.standard_normal((D, 4 * H)) * 0.6
        Wh = rng.standard_normal((H, 4 * H)) * 0.6
        b = rng.standard_normal(4 * H) * 0.6
        _, caches = _ch06_forward_steps(x, h0, Wx, Wh, b)
        _, ref_cache = _ref_fwd(x, h0, Wx, Wh, b)
        dh = rng.standard_normal((N, T, H))
        expected = _ref_bwd(dh, ref_cache)
        got, problems = _ch06_unpack(
            student_fn(dh.copy(), [_ch06_copy_cache(c) for c in caches]), names)
        n += 1
        if problems:
            return problems, n
        where = f"(N, T, D, H) = {(N, T, D, H)}"
        for name, g_, e_ in zip(names, got, expected):
            problems += compare(f"{name} {where}", g_, e_, 1e-7)
        if problems:
            diagnosis = _ch06_diagnose_sequence(student_fn, got, expected, dh, caches)
            if diagnosis and diagnosis[0].startswith("your step backward is wrong"):
                return diagnosis + problems, n      # the cause first: it is another exercise
            return problems + diagnosis, n

    # Independent of the reference: centred differences through the whole sequence.
    N, T, D, H = 2, 3, 2, 3
    x, h0 = rng.standard_normal((N, T, D)), np.tanh(rng.standard_normal((N, H)))
    Wx, Wh = rng.standard_normal((D, 4 * H)) * 0.6, rng.standard_normal((H, 4 * H)) * 0.6
    b = rng.standard_normal(4 * H) * 0.6
    _, caches = _ch06_forward_steps(x, h0, Wx, Wh, b)
    dh = rng.standard_normal((N, T, H))
    got, problems = _ch06_unpack(student_fn(dh.copy(), caches), names)
    if problems:
        return problems, n
    for name, arr, g_ in zip(names, (x, h0, Wx, Wh, b), got):
        num = eval_numerical_gradient_array(lambda: _ref_fwd(x, h0, Wx, Wh, b)[0], arr, dh)
        n += 1
        problems += compare_numerical(name, g_, num, tol=1e-7)
    return problems, n


# Backward passes handed to the student's gradient-check routine; the truth about
# each one (which outputs and gates are wrong) is measured against the package.
_CH06_GRADCHECK_CASES = (
    ("a correct step backward", None, _CH06_GATES),
    ("a step backward with the o and g blocks of da swapped", None, ("i", "f", "g", "o")),
    ("a step backward that forgets dnext_c", "no_dnext_c", _CH06_GATES),
    ("a step backward with df = dc * next_c", "df_next_c", _CH06_GATES),
    ("a step backward with dprev_c = dc", "dprev_c_no_f", _CH06_GATES),
    ("a step backward with the i and f blocks of da swapped", None, ("f", "i", "o", "g")),
)


def _ch06_as_names(value, allowed, what):
    """A set of names from the student's list/tuple/set, or a problem message."""
    if isinstance(value, str) or value is None:
        return None, (f"{what}: return a list of names such as {list(allowed[:2])}, "
                      f"got {value!r}")
    try:
        names = {str(v) for v in value}
    except TypeError:
        return None, f"{what}: return a list of names, got {type(value).__name__}"
    unknown = names - set(allowed)
    if unknown:
        return None, f"{what}: unknown names {sorted(unknown)}; use names from {list(allowed)}"
    return names, None


@register("gradcheck_finds_swapped_gates")
def _check_gradcheck_finds_swapped_gates(student_fn, rng):
    """find_wrong_gradient(step_backward) -> (wrong_outputs, wrong_gates)."""
    from ..lstm import lstm_step_backward as _ref_bwd
    from ..lstm import lstm_step_forward as _ref_fwd

    n = 0
    probe = _ch06_case(rng, 3, 4, 5)
    _, _, cache = _ref_fwd(*probe)
    dnh, dnc = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    ref = _ref_bwd(dnh, dnc, cache)
    for label, bug, order in _CH06_GRADCHECK_CASES:
        if bug is None and order == _CH06_GATES:
            fn = _ref_bwd
        else:
            def fn(dnext_h, dnext_c, cache, _bug=bug, _order=order):
                return _ch06_step_variant(dnext_h, dnext_c, cache, _bug, _order)
        # the truth, measured on a probe case against the package
        outs = fn(dnh, dnc, cache)
        want_out = {nm for nm, g_, e_ in zip(_CH06_STEP_OUT, outs, ref)
                    if _ch06_normwise(g_, e_) > 1e-6}
        errs = _ch06_gate_errors(outs, ref, 5)
        want_gates = {g for g in _CH06_GATES if errs[g] > 1e-6}
        result = student_fn(fn)
        n += 1
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return [f"return a pair (wrong_outputs, wrong_gates), got {type(result).__name__}"], n
        got_out, msg = _ch06_as_names(result[0], _CH06_STEP_OUT, "wrong_outputs")
        if msg:
            return [msg], n
        got_gates, msg = _ch06_as_names(result[1], _CH06_GATES, "wrong_gates")
        if msg:
            return [msg], n
        problems = []
        if got_out != want_out:
            missed, extra = sorted(want_out - got_out), sorted(got_out - want_out)
            problems.append(
                f"for {label} your routine reported the outputs {sorted(got_out)}"
                + (f"; it missed {missed}" if missed else "")
                + (f"; {extra} are actually right (is your tolerance too tight, or do you "
                   "compare with the wrong numerical gradient?)" if extra else ""))
        if got_gates != want_gates:
            problems.append(
                f"for {label} your routine reported the gates {sorted(got_gates)}, but the "
                f"gradient check should flag {sorted(want_gates)} (compare the column blocks "
                "0:H, H:2H, 2H:3H, 3H:4H of dWx, dWh and db, in the order i, f, o, g)")
        if problems:
            return problems, n
    return [], n


def _ch06_streams(caches, dh_last, mode="ok"):
    """Norms of the two error streams (reference and diagnosis variants)."""
    from ..lstm import lstm_step_backward as _ref_bwd
    T = len(caches)
    nh, nc = np.empty(T), np.empty(T)
    dh = np.array(dh_last, dtype=np.float64)
    last = caches[-1]
    dc = dh * last["o"] * (1 - last["tanh_c"] ** 2)
    for t in range(T - 1, -1, -1):
        nh[t] = np.linalg.norm(dh)
        nc[t] = np.linalg.norm(dc)
        carry_c = dc if mode == "h_with_c" else np.zeros_like(dh)
        dh = _ref_bwd(dh, carry_c, caches[t])[1]
        dc = dc * caches[t - 1 if mode == "f_shift" and t > 0 else t]["f"]
    return nh, nc


@register("gradient_streams")
def _check_gradient_streams(student_fn, rng):
    """gradient_streams(caches, dh_last) -> (norms_h, norms_c), each (T,)."""
    from ..lstm import lstm_step_forward as _ref_fwd
    n = 0
    for N, T, D, H, bf in [(1, 12, 3, 4, 1.0), (2, 7, 2, 3, 0.0), (1, 20, 4, 5, 3.0)]:
        x = rng.standard_normal((N, T, D))
        Wx = rng.standard_normal((D, 4 * H)) * 0.3
        Wh = rng.standard_normal((H, 4 * H)) * 0.3
        b = np.zeros(4 * H)
        b[H:2 * H] = bf
        h, c = np.zeros((N, H)), np.zeros((N, H))
        caches = []
        for t in range(T):
            h, c, cache = _ref_fwd(x[:, t], h, c, Wx, Wh, b)
            caches.append(cache)
        dh_last = rng.standard_normal((N, H))
        want_h, want_c = _ch06_streams(caches, dh_last)
        got, problems = _ch06_unpack(
            student_fn([_ch06_copy_cache(c) for c in caches], dh_last.copy()),
            ("norms_h", "norms_c"))
        n += 1
        if problems:
            return problems, n
        where = f"(N, T, D, H) = {(N, T, D, H)}, forget bias {bf}"
        for name, g_, e_, k in (("norms_h", got[0], want_h, 0), ("norms_c", got[1], want_c, 1)):
            for msg in compare(f"{name} {where}", g_, e_, 1e-7):
                hint = ""
                if k == 0 and _ch06_close(g_, _ch06_streams(caches, dh_last, "h_with_c")[0]):
                    hint = (" — your h stream still receives the error carried by the cell: "
                            "cut it by passing dnext_c = 0 at every step")
                elif k == 1 and _ch06_close(g_, _ch06_streams(caches, dh_last, "f_shift")[1]):
                    hint = (" — off by one step: c_t = f_t * c_{t-1} + ..., so going from "
                            "c_t back to c_{t-1} multiplies by the forget gate OF STEP t")
                elif np.shape(g_) == e_.shape and not np.isclose(float(np.asarray(g_)[-1]), e_[-1]):
                    hint = (" — already wrong at the last step t = T-1: there norms_h is "
                            "||dh_last|| and norms_c is ||dh_last * o * (1 - tanh_c**2)||")
                problems.append(msg + hint)
        if problems:
            return problems, n
    return [], n
