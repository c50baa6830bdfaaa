"""The diagnosis engine of the checks (checks/_diagnose.py), on arrays with known faults."""
import numpy as np

from lstm_course.checks import _diagnose as dg


def test_first_match_needs_every_defined_output_to_agree():
    right = (np.ones(3), np.arange(3.0))
    hyps = {"first wrong": (2 * np.ones(3), np.arange(3.0)),
            "second wrong": (np.ones(3), None)}            # None: says nothing about output 2
    assert dg.first_match((2 * np.ones(3), np.arange(3.0)), hyps) == "first wrong"
    assert dg.first_match((np.ones(3), -np.arange(3.0)), hyps) == "second wrong"
    assert dg.first_match((3 * np.ones(3), np.arange(3.0)), hyps) is None
    assert dg.first_match(right, {"x": (np.ones(3), np.zeros(3))}) is None


def test_error_map_locates_step_and_gate():
    rng = np.random.default_rng(0)
    N, T, H = 2, 4, 3
    expected = rng.standard_normal((N, T, 4 * H))
    got = expected.copy()
    got[:, 1, 2 * H:3 * H] *= 1.5                      # step 1, the o block
    emap = dg.error_map(got, expected)
    assert emap.shape == (T, 4)
    assert emap[1, 2] > 0.1 and np.count_nonzero(emap > dg.RIGHT) == 1
    assert "only the o block" in dg.describe_map(emap)
    table = dg.format_map(emap, "da")
    assert table.splitlines()[3].split()[0] == "t=1" and "e-01" in table.splitlines()[3]
    assert set(table.splitlines()[2].split()[1:]) == {"·"}


def test_describe_map_patterns():
    carry = np.zeros((5, 4))
    carry[:4] = 0.3                                     # wrong everywhere except t = T-1
    assert "the carry" in dg.describe_map(carry)
    cell = np.zeros((5, 4))
    cell[:, [0, 1, 3]] = 0.2
    assert "dc is wrong" in dg.describe_map(cell)
    assert "da is right at every step" in dg.describe_map(np.zeros((3, 4)))
    assert dg.describe_map(np.full((3, 4), 0.5)) is None


def test_implied_da_recovers_da_when_D_is_at_least_4H():
    rng = np.random.default_rng(1)
    Wx = rng.standard_normal((9, 8))
    da = rng.standard_normal((2, 5, 8))
    assert np.allclose(dg.implied_da(da @ Wx.T, Wx), da)


def test_factor_transpose_and_single_step():
    rng = np.random.default_rng(2)
    e = rng.standard_normal((4, 4))
    assert abs(dg.constant_factor(e / 3, e) - 1 / 3) < 1e-12
    assert dg.constant_factor(e + 0.1, e) is None and dg.constant_factor(e, e) is None
    assert "1/N = 1/3" in dg.name_factor(1 / 3, N=3, T=5)
    assert "1/T = 1/5" in dg.name_factor(1 / 5, N=3, T=5)
    assert "counted 2 times" in dg.name_factor(2.0)
    assert dg.is_transpose(e.T, e) and not dg.is_transpose(e, e)
    parts = [rng.standard_normal((2, 3)) for _ in range(3)]
    assert dg.single_step(parts[2], parts) == 2 and dg.single_step(sum(parts), parts) is None


def test_helpers_called_and_with_helper():
    namespace = {}
    exec("def helper(a, b):\n    return a + b\n"
         "def other(a):\n    return a\n"
         "def outer(x):\n    return helper(x, 1) + other(x)\n", namespace)
    outer = namespace["outer"]
    assert [name for name, _ in dg.helpers_called(outer, 2)] == ["helper"]
    patched = dg.with_helper(outer, "helper", lambda a, b: a * 100)
    assert patched(2) == 202 and outer(2) == 5          # the original is unchanged
