"""Exercise checks for chapter 08: paper lab."""
import numpy as np

from ._core import compare, register


# Checks: adding_metrics, cifg_step_forward, mean_std, compare_seeds. The CIFG
# reference is built from the package's lstm_step_forward: since
# sigmoid(-a) = 1 - sigmoid(a), giving the forget gate the NEGATED input-gate
# weights makes f = 1 - i exactly.
def _ch08_as_tuple(result, n, names):
    """A student's result as a tuple of n entries, or a problem message."""
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = type(result).__name__ if not isinstance(result, (tuple, list)) else f"{len(result)} values"
        return None, f"return a tuple {names} of {n} values (got {got})"
    return tuple(result), None


def _ch08_scalar(label, value):
    """A float from a number or one-element array, or a problem message."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"{label}: expected a number, got {type(value).__name__}"
    if arr.size != 1:
        return None, f"{label}: expected one number, got an array of shape {arr.shape}"
    v = float(arr.reshape(()))
    if not np.isfinite(v):
        return None, f"{label}: is {v} (NaN or inf)"
    return v, None


def _ch08_scalars(labels, values):
    """Floats for each of ``values`` (named by ``labels``), or the first problem message."""
    got = []
    for label, value in zip(labels, values):
        v, msg = _ch08_scalar(label, value)
        if msg:
            return None, msg
        got.append(v)
    return got, None


def _ch08_close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(a) + abs(b))


def _ch08_adding_reference(y_pred, y, tol):
    err = y_pred - y
    return (float(np.mean(err ** 2)), float(np.mean((y - 1.0) ** 2)),
            float(np.mean(np.abs(err) < tol)))


@register("adding_metrics")
def _check_adding_metrics(student_fn, rng):
    """``student_fn(y_pred, y, tol=0.04) -> (mse, baseline_mse, accuracy)``."""
    from ..tasks import adding_problem

    names = "(mse, baseline_mse, accuracy)"
    cases = []
    _, y = adding_problem(8, 10, seed=int(rng.integers(1000)))
    cases.append((y + rng.normal(0, 0.05, y.shape), y, 0.04, "8 noisy predictions"))
    _, y = adding_problem(200, 20, seed=int(rng.integers(1000)))
    cases.append((np.ones_like(y), y, 0.04, "the constant prediction 1.0"))
    cases.append((y + rng.normal(0, 0.3, y.shape), y, 0.1, "200 predictions, tol=0.1"))
    y = np.array([0.5, 1.5, 1.0])
    cases.append((np.array([0.75, 1.5, 1.2]), y, 0.25, "an error of exactly tol=0.25 counts as wrong"))
    n = 0
    for y_pred, y, tol, which in cases:
        n += 1
        where = f"  [{which}]"
        result, msg = _ch08_as_tuple(student_fn(y_pred.copy(), y.copy(), tol), 3, names)
        if msg:
            return [msg + where], n
        mse_ref, base_ref, acc_ref = _ch08_adding_reference(y_pred, y, tol)
        got, msg = _ch08_scalars(("mse", "baseline_mse", "accuracy"), result)
        if msg:
            return [msg + where], n
        mse, base, acc = got
        err = y_pred - y
        problems = []
        if not _ch08_close(mse, mse_ref):
            hint = ""
            if _ch08_close(mse, float(np.sqrt(mse_ref))):
                hint = "; that is the root of the MSE (RMSE): do not take the square root"
            elif _ch08_close(mse, float(np.mean(np.abs(err)))):
                hint = "; that is the mean ABSOLUTE error: square the errors"
            elif _ch08_close(mse, float(np.sum(err ** 2))):
                hint = "; that is the SUM of squared errors: take the mean"
            problems.append(f"mse: yours {mse:.6g}, expected {mse_ref:.6g}{hint}{where}")
        if not _ch08_close(base, base_ref):
            hint = ""
            if _ch08_close(base, float(np.var(y))):
                hint = ("; you predicted the sample mean of these targets: the baseline is the "
                        "constant 1.0 (the expected sum), fixed before seeing the test data")
            elif _ch08_close(base, float(np.mean((y_pred - 1.0) ** 2))):
                hint = "; compare the constant 1.0 with the TARGETS y, not with the predictions"
            elif _ch08_close(base, float(np.mean(y ** 2))):
                hint = "; that is the MSE of predicting 0; the baseline predicts 1.0"
            elif _ch08_close(base, float(np.mean(np.abs(y - 1.0)))):
                hint = "; square the errors of the baseline too"
            problems.append(f"baseline_mse: yours {base:.6g}, expected {base_ref:.6g}{hint}{where}")
        if not _ch08_close(acc, acc_ref):
            hint = ""
            if _ch08_close(acc, float(np.mean(np.abs(err) <= tol))):
                hint = "; a prediction is right only when |error| < tol (strictly)"
            elif _ch08_close(acc, float(np.sum(np.abs(err) < tol))):
                hint = "; return the FRACTION of correct predictions, not their count"
            elif _ch08_close(acc, float(np.mean(err < tol))):
                hint = "; use the absolute error |y_pred - y|"
            problems.append(f"accuracy: yours {acc:.6g}, expected {acc_ref:.6g}{hint}{where}")
        if problems:
            return problems, n
    return [], n


def _ch08_cifg_reference(x, prev_h, prev_c, Wx, Wh, b):
    """CIFG step from the package: f-block of the weights := - i-block."""
    from ..lstm import lstm_step_forward

    H = Wh.shape[0]
    Wx2, Wh2, b2 = Wx.copy(), Wh.copy(), b.copy()
    for M in (Wx2, Wh2):
        M[:, H:2 * H] = -M[:, :H]
    b2[H:2 * H] = -b2[:H]
    next_h, next_c, _ = lstm_step_forward(x, prev_h, prev_c, Wx2, Wh2, b2)
    return next_h, next_c


def _ch08_cifg_mistakes(x, prev_h, prev_c, Wx, Wh, b):
    """Typical wrong CIFG steps, name -> (next_h, next_c)."""
    from ..activations import sigmoid

    H = Wh.shape[0]
    a = x @ Wx + prev_h @ Wh + b
    i, f_own = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    o, g = sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    out = {}

    def add(name, f, h_act=np.tanh, i_used=i):
        c = f * prev_c + i_used * g
        out[name] = (o * h_act(c), c)

    add("the forget gate still has its own weights (f = sigmoid(a_f)): in CIFG f = 1 - i", f_own)
    add("f = i: the coupled forget gate is 1 - i", i)
    add("no forget gate at all (f = 1): in CIFG f = 1 - i", np.ones_like(i))
    add("1 - i was used for the INPUT and i for the forget gate (they are swapped)", i, i_used=1 - i)
    add("h = o * c: the output activation tanh is missing", 1 - i, h_act=lambda c: c)
    c = (1 - i) * prev_c + i * g
    out["h = o * tanh(prev_c): use the NEW cell state"] = (o * np.tanh(prev_c), c)
    return out


@register("cifg_step_forward")
def _check_cifg_step_forward(student_fn, rng):
    """``student_fn(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c)`` with f = 1 - i."""
    n = 0
    for N, D, H in ((2, 3, 4), (1, 2, 3), (3, 5, 2)):
        n += 1
        args = (rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H)) * 2,
                rng.normal(0, 0.6, (D, 4 * H)), rng.normal(0, 0.6, (H, 4 * H)),
                rng.normal(0, 0.6, 4 * H))
        copies = tuple(a.copy() for a in args)
        result, msg = _ch08_as_tuple(student_fn(*copies), 2, "(next_h, next_c)")
        where = f"  [test with N={N}, D={D}, H={H}]"
        if msg:
            return [msg + where], n
        if any(not np.array_equal(a, c) for a, c in zip(args, copies)):
            return ["your function modified its inputs in place; compute new arrays instead" + where], n
        exp_h, exp_c = _ch08_cifg_reference(*args)
        problems = compare("next_c", result[1], exp_c) + compare("next_h", result[0], exp_h)
        if problems:
            got_h, got_c = (np.asarray(r, dtype=np.float64) for r in result)
            for name, (mh, mc) in _ch08_cifg_mistakes(*args).items():
                if (got_h.shape == mh.shape and got_c.shape == mc.shape
                        and np.allclose(got_h, mh, rtol=1e-7, atol=1e-10)
                        and np.allclose(got_c, mc, rtol=1e-7, atol=1e-10)):
                    problems.append(f"your result matches a typical mistake: {name}")
                    break
            return [p + where if not p.startswith("your result") else p for p in problems], n
    return [], n


@register("mean_std")
def _check_mean_std(student_fn, rng):
    """``student_fn(values) -> (mean, std)`` with the sample std (ddof=1)."""
    cases = [(np.array([0.1, 0.3, 0.2]), "three seeds"),
             (rng.uniform(0, 1, 10), "ten seeds"),
             (np.array([0.0016, 0.0018, 0.0015, 0.0900]), "four seeds, one failed run"),
             (np.array([2.0, 2.0]), "two equal values (std 0)")]
    n = 0
    for values, which in cases:
        n += 1
        where = f"  [{which}: {np.round(values, 4).tolist()}]"
        result, msg = _ch08_as_tuple(student_fn(values.copy()), 2, "(mean, std)")
        if msg:
            return [msg + where], n
        got, msg = _ch08_scalars(("mean", "std"), result)
        if msg:
            return [msg + where], n
        mean, std = got
        exp_mean, exp_std = float(np.mean(values)), float(np.std(values, ddof=1))
        problems = []
        if not _ch08_close(mean, exp_mean):
            hint = "; that is the median" if _ch08_close(mean, float(np.median(values))) else ""
            problems.append(f"mean: yours {mean:.6g}, expected {exp_mean:.6g}{hint}{where}")
        if not _ch08_close(std, exp_std):
            hint = ""
            if _ch08_close(std, float(np.std(values))):
                hint = ("; that is the population std (ddof=0): with a few seeds use the sample "
                        "std, dividing by n - 1 (np.std(values, ddof=1))")
            elif _ch08_close(std, float(np.var(values, ddof=1))):
                hint = "; that is the variance: take its square root"
            elif _ch08_close(std, float(np.std(values, ddof=1) / np.sqrt(len(values)))):
                hint = "; that is the standard error of the mean; return the std of the seeds"
            problems.append(f"std: yours {std:.6g}, expected {exp_std:.6g}{hint}{where}")
        if problems:
            return problems, n
    return [], n


@register("compare_seeds")
def _check_compare_seeds(student_fn, rng):
    """``student_fn(a, b) -> (mean_diff, std_diff, wins)``: paired per seed, d = a - b,
    std with ddof=1, wins = number of seeds with a < b (lower is better)."""
    cases = [(np.array([0.30, 0.10, 0.20]), np.array([0.35, 0.05, 0.40]), "three seeds"),
             (rng.uniform(0, 1, 8), rng.uniform(0, 1, 8), "eight seeds"),
             (np.array([0.5, 0.2, 0.9, 0.4]), np.array([0.5, 0.3, 0.1, 0.6]), "a tie on seed 0")]
    n = 0
    for a, b, which in cases:
        n += 1
        where = f"  [{which}: a={np.round(a, 3).tolist()}, b={np.round(b, 3).tolist()}]"
        result, msg = _ch08_as_tuple(student_fn(a.copy(), b.copy()), 3, "(mean_diff, std_diff, wins)")
        if msg:
            return [msg + where], n
        got, msg = _ch08_scalars(("mean_diff", "std_diff", "wins"), result)
        if msg:
            return [msg + where], n
        mean_d, std_d, wins = got
        d = a - b
        exp = (float(d.mean()), float(d.std(ddof=1)), float(np.sum(a < b)))
        problems = []
        if not _ch08_close(mean_d, exp[0]):
            hint = "; the difference is a - b (lower a is better, so negative favours a)" \
                if _ch08_close(mean_d, -exp[0]) else ""
            problems.append(f"mean_diff: yours {mean_d:.6g}, expected {exp[0]:.6g}{hint}{where}")
        if not _ch08_close(std_d, exp[1]):
            ds = np.sort(a) - np.sort(b)
            hint = ""
            if _ch08_close(std_d, float(np.sqrt(a.var(ddof=1) + b.var(ddof=1)))):
                hint = ("; that treats a and b as unpaired; take the std of the per-seed "
                        "differences a[k] - b[k]")
            elif _ch08_close(std_d, float(d.std())):
                hint = "; use the sample std (ddof=1)"
            elif _ch08_close(std_d, float(ds.std(ddof=1))):
                hint = "; the arrays were sorted, which breaks the pairing by seed"
            problems.append(f"std_diff: yours {std_d:.6g}, expected {exp[1]:.6g}{hint}{where}")
        if not _ch08_close(wins, exp[2]):
            hint = ""
            if _ch08_close(wins, float(np.sum(a <= b))):
                hint = "; a tie is not a win: count a < b strictly"
            elif _ch08_close(wins, float(np.sum(a > b))):
                hint = "; lower is better here: count the seeds where a < b"
            elif _ch08_close(wins, float(np.mean(a < b))):
                hint = "; return the NUMBER of seeds, not the fraction"
            problems.append(f"wins: yours {wins:g}, expected {exp[2]:g}{hint}{where}")
        if problems:
            return problems, n
    return [], n
