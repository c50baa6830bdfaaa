"""The tolerant number comparison that tests/nbval_tolerance.py adds to nbval."""
from pathlib import Path

import nbformat
import pytest

from nbval_tolerance import cell_tolerance, numbers_match, texts_match

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("stored, computed", [
    ("0.1234", "0.1235"),            # a rounding boundary flips the last digit
    ("-0.0000", "0.0000"),           # the sign of a rounded zero
    ("1.5e-11", "1.6e-11"),          # one unit of the last digit of the mantissa
    ("loss 2.0e+00", "loss 2.1e+00"),
])
def test_one_unit_in_the_last_digit(stored, computed):
    assert texts_match(stored, computed)


@pytest.mark.parametrize("stored, computed", [
    ("rel_error = 4.9e-16", "rel_error = 9.4e-16"),   # rounding-level digits: print a bound
    ("smooth loss 95.02", "smooth loss 95.00"),        # two units
    ("solved 22/24", "solved 23/24"),                  # integers are exact
    ("loss 0.5 after 10 steps", "loss 0.5 after 11 steps"),
    ("the gate is open", "the gate is shut"),          # words are exact
    ("0.1234 0.5", "0.1234"),                          # a missing number
    ("nan", "0.0"),
    ("[ 0.1  -0.2]", "[ 0.1  0.2]"),   # a sign flip of a non-zero number
])
def test_what_still_fails_by_default(stored, computed):
    assert not texts_match(stored, computed)


def test_numpy_column_padding_is_not_a_difference():
    assert texts_match("[[ 0.1235  0.5   ]\n [ 0.2     1.    ]]",
                       "[[0.1234 0.5   ]\n [0.2    1.    ]]")
    assert texts_match("[ 0.      0.5]", "[-0.      0.5]")


def test_a_cell_can_widen_the_tolerance():
    assert texts_match("smooth loss 95.02", "smooth loss 95.00", rtol=1e-3, widened=True)
    assert not texts_match("smooth loss 95.02", "smooth loss 96.00", rtol=1e-3, widened=True)
    assert texts_match("seed 3: 22", "seed 3: 22", rtol=0.01, widened=True)
    assert not numbers_match("22", "23", rtol=0.01, widened=True)
    assert numbers_match("22", "23", atol=1, widened=True)


def test_cell_metadata_is_validated():
    cell = nbformat.v4.new_code_cell("x", metadata={"nbval_tolerance": {"rtol": 0.01}})
    assert cell_tolerance(cell) == (0.01, 0.0, True)
    assert cell_tolerance(nbformat.v4.new_code_cell("x")) == (0.0, 0.0, False)
    for bad in ({"rtol": -1}, {"rtl": 0.1}, {}, 0.1):
        with pytest.raises(ValueError, match="nbval_tolerance"):
            cell_tolerance(nbformat.v4.new_code_cell("x", metadata={"nbval_tolerance": bad}))


def _notebook(path, cells):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    for source, stored, meta in cells:
        cell = nbformat.v4.new_code_cell(source, metadata=meta, execution_count=1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
        nb.cells.append(cell)
    nbformat.write(nb, path)


@pytest.mark.slow
def test_end_to_end_through_nbval(pytester, monkeypatch):
    """nbval with the plugin: a number within tolerance passes, a changed count fails."""
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent))
    pytester.makeconftest("pytest_plugins = ['nbval_tolerance']")
    _notebook(pytester.path / "nb.ipynb", [
        ("print(f'{0.12345 + 1e-12:.4f}')", "0.1234\n", {}),          # within the last digit
        ("print('loss', 95.0)", "loss 95.02\n", {"nbval_tolerance": {"rtol": 1e-3}}),
        ("print('loss', 95.0)", "loss 95.02\n", {}),                    # no tolerance: fails
        ("print('solved', 18, 'of 24')", "solved 22 of 24\n", {"nbval_tolerance": {"rtol": 0.05}}),
    ])
    result = pytester.runpytest_subprocess("--nbval", "-p", "no:cacheprovider", "nb.ipynb")
    result.assert_outcomes(passed=2, failed=2)
    out = result.stdout.str()
    assert "loss 95.02" in out and "solved 22 of 24" in out  # nbval's own report of the two
