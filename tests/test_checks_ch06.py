"""Chapter 6 checks: the reference answers pass; typical student bugs are rejected
with a message that names the right output and, for the step backward, the gate."""
import numpy as np
import pytest

from lstm_course.checks import CheckFailed, check, run_check
from lstm_course.gradcheck import eval_numerical_gradient_array
from lstm_course.lstm import lstm_step_backward, lstm_step_forward

GATES = "ifog"
OUT_NAMES = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")


# ---------------------------------------------------------------- exercise 1
def make_step_backward(bug=None):
    """A student-style LSTM step backward with one configurable mistake."""
    def step_backward(dnext_h, dnext_c, cache):
        x, prev_h, prev_c = cache["x"], cache["prev_h"], cache["prev_c"]
        Wx, Wh = cache["Wx"], cache["Wh"]
        i, f, o, g = cache["i"], cache["f"], cache["o"], cache["g"]
        tanh_c = np.tanh(prev_c) if bug == "tanh_prev_c" else cache["tanh_c"]
        do = dnext_h * tanh_c
        dc = dnext_h * o * (1 - tanh_c ** 2)
        if bug != "no_dnext_c":
            dc = dc + dnext_c
        df = dc * (cache["next_c"] if bug == "df_next_c" else prev_c)
        di, dg = dc * g, dc * i
        dprev_c = dc * f
        da_i, da_f, da_o, da_g = di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)
        blocks = [da_i, da_f, da_g, da_o] if bug == "swap_og" else [da_i, da_f, da_o, da_g]
        da = np.concatenate(blocks, axis=1)
        db = da[0] if bug == "db_not_summed" else da.sum(axis=0)
        return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, db
    return step_backward


def problems(name, fn):
    res = run_check(name, fn)
    assert not res.passed, f"{name} accepted a broken implementation"
    return " | ".join(res.problems)


def test_step_backward_reference_passes():
    assert run_check("lstm_step_backward", make_step_backward()).passed
    assert run_check("lstm_step_backward", lstm_step_backward).passed


def test_step_backward_forgotten_dnext_c():
    msg = problems("lstm_step_backward", make_step_backward("no_dnext_c"))
    assert "dprev_c" in msg and "dnext_c" in msg
    assert "gates i, f and g are wrong but o is right" in msg


def test_step_backward_tanh_prev_c():
    msg = problems("lstm_step_backward", make_step_backward("tanh_prev_c"))
    assert "tanh(prev_c)" in msg and "the o gate's gradient is wrong" in msg


def test_step_backward_swapped_o_g():
    msg = problems("lstm_step_backward", make_step_backward("swap_og"))
    assert "the o gate's gradient is wrong" in msg and "the g gate's gradient is wrong" in msg
    assert "order i, f, g, o" in msg
    assert "the i gate" not in msg and "the f gate" not in msg


def test_step_backward_df_next_c():
    msg = problems("lstm_step_backward", make_step_backward("df_next_c"))
    assert "the f gate's gradient is wrong" in msg and "df = dc * prev_c" in msg
    assert "the o gate" not in msg and "the g gate" not in msg


def test_step_backward_db_not_summed():
    msg = problems("lstm_step_backward", make_step_backward("db_not_summed"))
    assert msg.startswith("db ")


def test_step_backward_returns_none():
    assert "None" in problems("lstm_step_backward", lambda dh, dc, cache: None)


def test_check_raises_and_prints(capsys):
    with pytest.raises(CheckFailed):
        check("lstm_step_backward", make_step_backward("swap_og"))
    assert "✘ lstm_step_backward" in capsys.readouterr().out


# ---------------------------------------------------------------- exercise 2
def make_backward(mode=None):
    def backward(dh, caches):
        N, T, H = dh.shape
        D = caches[0]["x"].shape[1]
        dx = np.zeros((N, T, D))
        dWx, dWh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
        dnext_h, dnext_c = np.zeros((N, H)), np.zeros((N, H))
        for t in reversed(range(T)):
            up = dnext_h if mode == "no_dh_t" else dh[:, t] + dnext_h
            dx[:, t], dnext_h, dnext_c_new, dWx_t, dWh_t, db_t = lstm_step_backward(
                up, dnext_c, caches[t])
            dnext_c = np.zeros((N, H)) if mode == "no_dc" else dnext_c_new
            if mode == "overwrite":
                dWx, dWh, db = dWx_t, dWh_t, db_t
            else:
                dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        return dx, dnext_h, dWx, dWh, db
    return backward


def test_backward_reference_passes():
    assert run_check("lstm_backward", make_backward()).passed


@pytest.mark.parametrize("mode, needle", [
    ("overwrite", "SUMMED over t"),
    ("no_dc", "cell-state gradient is not carried back"),
    ("no_dh_t", "add dh[:, t]"),
])
def test_backward_bugs(mode, needle):
    msg = problems("lstm_backward", make_backward(mode))
    assert needle in msg
    if mode == "overwrite":
        assert msg.startswith("dWx") and "dx " not in msg


# ---------------------------------------------------------------- exercise 3
def _normwise(a, b):
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else np.linalg.norm(a - b) / den


def make_finder(mode=None, tol=1e-6):
    def find_wrong_gradient(step_backward):
        rng = np.random.default_rng(0)
        N, D, H = 2, 3, 4
        x, prev_h, prev_c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
        Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
        dnext_h, dnext_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
        _, _, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
        grads = step_backward(dnext_h, dnext_c, cache)

        def outputs():
            h, c, _ = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
            return np.concatenate([h, c], axis=1)
        up = np.concatenate([dnext_h, dnext_c], axis=1)
        if mode == "h_only":  # forgets that the loss also reads next_c
            def outputs():  # noqa: F811
                return lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)[0]
            up = dnext_h
        wrong_out, wrong_gates = [], set()
        for name, arr, g in zip(OUT_NAMES, (x, prev_h, prev_c, Wx, Wh, b), grads):
            num = eval_numerical_gradient_array(outputs, arr, up)
            if _normwise(g, num) > tol:
                wrong_out.append(name)
            if name in ("dWx", "dWh", "db") and mode != "no_gates":
                for k, gate in enumerate(GATES):
                    cols = slice(k * H, (k + 1) * H)
                    if _normwise(g[..., cols], num[..., cols]) > tol:
                        wrong_gates.add(gate)
        return wrong_out, sorted(wrong_gates)
    return find_wrong_gradient


def test_finder_reference_passes():
    assert run_check("gradcheck_finds_swapped_gates", make_finder()).passed


def test_finder_without_gates():
    msg = problems("gradcheck_finds_swapped_gates", make_finder("no_gates"))
    assert "o and g blocks of da swapped" in msg and "['g', 'o']" in msg


def test_finder_tolerance_too_tight():
    msg = problems("gradcheck_finds_swapped_gates", make_finder(tol=1e-15))
    assert "a correct step backward" in msg and "actually right" in msg


def test_finder_wrong_loss():
    msg = problems("gradcheck_finds_swapped_gates", make_finder("h_only"))
    assert "a correct step backward" in msg


def test_finder_bad_return_type():
    assert "pair" in problems("gradcheck_finds_swapped_gates", lambda fn: "o, g")
    assert "unknown names" in problems("gradcheck_finds_swapped_gates",
                                       lambda fn: (["dWx"], ["output"]))


# ---------------------------------------------------------------- exercise 4
def make_streams(mode=None):
    def gradient_streams(caches, dh_last):
        T = len(caches)
        norms_h, norms_c = np.zeros(T), np.zeros(T)
        dh = dh_last
        dc = dh_last * caches[-1]["o"] * (1 - caches[-1]["tanh_c"] ** 2)
        for t in reversed(range(T)):
            norms_h[t], norms_c[t] = np.linalg.norm(dh), np.linalg.norm(dc)
            carry = dc if mode == "h_with_c" else np.zeros_like(dh)
            dh = lstm_step_backward(dh, carry, caches[t])[1]
            k = t - 1 if (mode == "f_shift" and t > 0) else t
            dc = dc * caches[k]["f"]
        return norms_h, norms_c
    return gradient_streams


def test_streams_reference_passes():
    assert run_check("gradient_streams", make_streams()).passed


def test_streams_not_cut():
    msg = problems("gradient_streams", make_streams("h_with_c"))
    assert msg.startswith("norms_h") and "dnext_c = 0" in msg


def test_streams_off_by_one():
    msg = problems("gradient_streams", make_streams("f_shift"))
    assert msg.startswith("norms_c") and "OF STEP t" in msg


# ------------------------------------------- issue 14: every classic bug is named
def student_step(bug=None):
    """A student's step backward written line by line, with one classic mistake."""
    def my_step_backward(dnext_h, dnext_c, cache):
        x, prev_h, prev_c = cache["x"], cache["prev_h"], cache["prev_c"]
        Wx, Wh = cache["Wx"], cache["Wh"]
        i, f, o, g, tanh_c = cache["i"], cache["f"], cache["o"], cache["g"], cache["tanh_c"]
        do = dnext_h * tanh_c
        dc = dnext_c + dnext_h * o * (tanh_c if bug == "dc_tanh" else (1 - tanh_c ** 2))
        if bug == "assign_not_add":            # dc = dnext_c; dc = ... (should be +=)
            dc = dnext_c
            dc = dnext_h * o * (1 - tanh_c ** 2)
        di, df, dg = dc * g, dc * prev_c, dc * i
        dprev_c = np.zeros_like(dc) if bug == "dprev_c_zero" else dc * f
        sig = (lambda s: s) if bug == "sigma_not_prime" else (lambda s: s * (1 - s))
        da_i, da_f, da_o = di * sig(i), df * sig(f), do * sig(o)
        if bug == "no_f_prime":
            da_f = df
        if bug == "copy_i_into_f":
            da_f = di * i * (1 - i)
        da = np.concatenate([da_i, da_f, da_o, dg * (1 - g ** 2)], axis=1)
        h_in = o * tanh_c if bug == "dWh_h_t" else prev_h
        db = da.mean(axis=0) if bug == "db_mean" else da.sum(axis=0)
        return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, h_in.T @ da, db
    return my_step_backward


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_student_style_references_pass_on_any_seed(seed):
    assert run_check("lstm_step_backward", student_step(), seed=seed).passed
    assert run_check("lstm_backward", student_backward(), seed=seed).passed


@pytest.mark.parametrize("bug, needles", [
    ("dWh_h_t", ["dWh uses h_t", "prev_h.T @ da"]),
    ("db_mean", ["MEAN of da over the batch", "db = da.sum(axis=0)"]),
    ("dprev_c_zero", ["dprev_c is zero", "dprev_c = dc * f"]),
    ("sigma_not_prime", ["sigma(a) where sigma'(a) belongs", "derivative=True",
                         "for the gates i, f and o"]),
    ("copy_i_into_f", ["the f block of da holds the i gate's delta"]),
    ("assign_not_add", ["`=` where `+=` belongs", "dnext_c"]),
    ("no_f_prime", ["derivative is missing for the gate f", "da_f = dc * prev_c * f * (1 - f)"]),
    ("dc_tanh", ["dc uses tanh(c_t) where its derivative belongs"]),
])
def test_step_backward_names_each_classic_bug(bug, needles):
    msg = problems("lstm_step_backward", student_step(bug))
    for needle in needles:
        assert needle in msg, f"{needle!r} missing from: {msg}"


def test_only_dwh_wrong_blames_only_dwh():
    """Misleading case 1: dWh alone is wrong -> no gate is blamed, no gate line is shown."""
    result = run_check("lstm_step_backward", student_step("dWh_h_t"))
    assert result.problems[0].startswith("dWh ")
    assert not any(p.startswith(("dx ", "dprev_h ", "dprev_c ", "dWx ", "db ")) for p in result.problems)
    msg = " | ".join(result.problems)
    assert "gate's gradient is wrong" not in msg and "gates i, f and g" not in msg
    assert "da_o" not in msg and "di = " not in msg and "da_i" not in msg
    assert "da is right in all four gates" in msg


def test_db_mean_blames_no_gate():
    msg = problems("lstm_step_backward", student_step("db_mean"))
    assert "gate's gradient is wrong" not in msg and "in the line for db itself" in msg


def test_dc_wrong_gives_no_red_herrings():
    """Misleading case 2: dc wrong -> the dc line, and no hint about the gates i, f, g."""
    msg = problems("lstm_step_backward", student_step("dc_tanh"))
    assert "so dc is wrong" in msg
    assert "gate's gradient is wrong" not in msg and "check di = " not in msg


def test_copied_delta_blames_only_the_overwritten_gate():
    msg = problems("lstm_step_backward", student_step("copy_i_into_f"))
    assert "the f gate's gradient is wrong" in msg
    for gate in "iog":
        assert f"the {gate} gate's gradient is wrong" not in msg


def student_backward(mode=None, step=lstm_step_backward):
    """A student's BPTT loop with one classic mistake; ``step`` is the step it calls."""
    def my_lstm_backward(dh, caches):
        N, T, H = dh.shape
        D = caches[0]["x"].shape[1]
        dx = np.zeros((N, T, D))
        dWx, dWh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
        dnext_h, dnext_c = np.zeros((N, H)), np.zeros((N, H))
        late_h, late_c = np.zeros((N, H)), np.zeros((N, H))
        for t in reversed(range(T)):
            cache = caches[t - 1] if mode == "cache_t_minus_1" else caches[t]
            dh_t = dh[:, t - 1] if mode == "dh_t_minus_1" else dh[:, t]
            if mode == "carries_swapped":
                dx[:, t], dnext_c, dnext_h, dWx_t, dWh_t, db_t = step(dh_t + dnext_h, dnext_c, cache)
            else:
                dx[:, t], new_h, new_c, dWx_t, dWh_t, db_t = step(dh_t + dnext_h, dnext_c, cache)
                if mode == "carry_delayed":
                    dnext_h, dnext_c, late_h, late_c = late_h, late_c, new_h, new_c
                else:
                    dnext_h, dnext_c = new_h, new_c
            if mode == "last_step_only":
                if t == T - 1:
                    dWx, dWh, db = dWx_t, dWh_t, db_t
                continue
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        if mode == "db_mean":
            db = db / T
        dh0 = dnext_h + dh[:, 0] if mode == "dh0_plus_dh0" else dnext_h
        return dx, dh0, dWx, dWh, db
    return my_lstm_backward


@pytest.mark.parametrize("mode, needles", [
    ("cache_t_minus_1", ["off by one step", "caches[t], not caches[t-1]"]),
    ("dh_t_minus_1", ["off by one step", "not dh[:, t-1]"]),
    ("carry_delayed", ["off by one step", "the carry is a step late"]),
    ("carries_swapped", ["the two carries are swapped"]),
    ("last_step_only", ["dWx, dWh and db equal the contribution of step t = 3 alone",
                        "SUMMED over t"]),
    ("db_mean", ["db is exactly 1/T = 1/4 of the right value"]),
    ("dh0_plus_dh0", ["dh0 is only what step 0 sends back"]),
])
def test_backward_names_each_classic_loop_bug(mode, needles):
    msg = problems("lstm_backward", student_backward(mode))
    for needle in needles:
        assert needle in msg, f"{needle!r} missing from: {msg}"


@pytest.mark.parametrize("bug, needle", [
    ("no_f_prime", "the sigmoid's derivative is missing for the gate f"),
    ("dWh_h_t", "dWh uses h_t"),
    ("assign_not_add", "`=` where `+=` belongs"),
])
def test_backward_names_a_step_bug_written_into_the_loop(bug, needle):
    msg = problems("lstm_backward", student_backward(step=student_step(bug)))
    assert needle in msg, msg


def test_backward_with_a_wrong_step_says_fix_exercise_1():
    """Misleading case 3: the BPTT calls the student's own (wrong) step backward."""
    namespace = {"np": np, "my_step_backward": student_step("no_f_prime")}
    exec("def my_lstm_backward(dh, caches):\n"
         "    N, T, H = dh.shape\n"
         "    dx = np.zeros((N, T, caches[0]['x'].shape[1]))\n"
         "    dWx = dWh = db = 0\n"
         "    dnext_h, dnext_c = np.zeros((N, H)), np.zeros((N, H))\n"
         "    for t in reversed(range(T)):\n"
         "        dx[:, t], dnext_h, dnext_c, a, b, c = my_step_backward(\n"
         "            dh[:, t] + dnext_h, dnext_c, caches[t])\n"
         "        dWx, dWh, db = dWx + a, dWh + b, db + c\n"
         "    return dx, dnext_h, dWx, dWh, db\n", namespace)
    result = run_check("lstm_backward", namespace["my_lstm_backward"])
    assert result.problems[0].startswith("your step backward is wrong: fix Exercise 6.1 first")
    assert "my_step_backward" in result.problems[0] and "your loop is right" in result.problems[0]
    namespace["my_step_backward"] = lstm_step_backward      # with a right step it passes
    assert run_check("lstm_backward", namespace["my_lstm_backward"]).passed


def test_backward_unknown_bug_shows_the_error_map():
    def leaky_step(dnext_h, dnext_c, cache):            # no classic bug: the carry halved
        return lstm_step_backward(dnext_h, 0.5 * dnext_c, cache)
    msg = "\n".join(run_check("lstm_backward", student_backward(step=leaky_step)).problems)
    assert "error map of the da that your dx implies" in msg
    assert "right at the last step t = T-1 and wrong at every step before it" in msg
    last_row = [line for line in msg.splitlines() if line.strip().startswith("t=4")][0]
    assert set(last_row.split()[1:]) == {"·"}


# ------------------------------------------------ Nico's NOAF backward pasted into ex. 1
def nico_step(do_too=False):
    """A step backward with Nico's line for the cell, ds = o * top_diff_h + top_diff_s.

    Nico's forward has h_t = o * s_t (no tanh: Greff et al.'s NOAF variant); with
    ``do_too`` his do = s * top_diff_h is pasted as well.
    """
    def my_step_backward(top_diff_h, top_diff_s, cache):
        x, prev_h, prev_c = cache["x"], cache["prev_h"], cache["prev_c"]
        Wx, Wh = cache["Wx"], cache["Wh"]
        i, f, o, g, tanh_c, s = (cache[k] for k in ("i", "f", "o", "g", "tanh_c", "next_c"))
        ds = o * top_diff_h + top_diff_s                # Nico's line
        do = (s if do_too else tanh_c) * top_diff_h
        da = np.concatenate([ds * g * i * (1 - i), ds * prev_c * f * (1 - f),
                             do * o * (1 - o), ds * i * (1 - g ** 2)], axis=1)
        return da @ Wx.T, da @ Wh.T, ds * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)
    return my_step_backward


def test_nico_ds_line_is_named():
    msg = problems("lstm_step_backward", nico_step())
    assert "diagnosis: dc is missing the tanh derivative" in msg
    assert "NOAF" in msg and "h_t = o * c_t" in msg
    assert "dc = dnext_c + dnext_h * o * (1 - tanh_c**2)" in msg
    assert "do = dnext_h * tanh_c" not in msg          # his do is not blamed: it is right here


def test_nico_whole_backward_is_named():
    msg = problems("lstm_step_backward", nico_step(do_too=True))
    assert "diagnosis: your step backward is the one of a cell without the output tanh" in msg
    assert "do = dnext_h * tanh_c" in msg
    msg = problems("lstm_backward", student_backward(step=nico_step(do_too=True)))
    assert "without the output tanh" in msg, msg


def test_nico_backward_is_right_for_his_noaf_cell():
    """The message says his lines are right for h_t = o * c_t: check that claim."""
    from lstm_course.activations import sigmoid
    rng = np.random.default_rng(5)
    N, D, H = 2, 3, 4
    x, prev_h, prev_c = (rng.standard_normal(s) for s in ((N, D), (N, H), (N, H)))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))

    def noaf_forward():
        a = x @ Wx + prev_h @ Wh + b
        i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        c = f * prev_c + i * g
        return np.concatenate([o * c, c], axis=1)        # h_t = o * c_t: no tanh
    _, _, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    got = nico_step(do_too=True)(dh, dc, cache)
    up = np.concatenate([dh, dc], axis=1)
    for arr, g_ in zip((x, prev_h, prev_c, Wx, Wh), got):
        num = eval_numerical_gradient_array(noaf_forward, arr, up)
        assert _normwise(g_, num) < 1e-8
    assert _normwise(got[5], eval_numerical_gradient_array(noaf_forward, b, up)) < 1e-8
