"""A pytest plugin that lets nbval compare printed numbers with a tolerance.

nbval compares a cell's stored text output with the re-computed one character by
character. Numbers computed through BLAS differ in their last bits from one CPU,
kernel (``OPENBLAS_CORETYPE``) or thread count to another, so an exact comparison of
printed digits tests the machine, not the course. This plugin keeps nbval (its
kernel handling, sanitizers, tags and reports) and changes only one thing: before
nbval compares two outputs, a text that differs from the stored one *only in its
numbers*, each within the tolerance below, is taken as equal. Every other
difference (a word, a line, an integer count, a number outside the tolerance, an
extra output) still fails with nbval's own report.

The tolerance of a number:

* by default, a number written with a decimal point or an exponent may differ by one
  unit in its last printed digit (0.1234 vs 0.1235, 1.5e-11 vs 1.6e-11): the digit
  a rounding boundary can flip. Integers (counts such as "22/24") compare exactly.
  A rounding-level quantity (4.9e-16 vs 9.4e-16) therefore still fails: print it as a
  bound ("< 1e-12"), as the book does;
* a cell may widen it in its metadata, for numbers that are meant but not exactly
  reproducible (a loss after many training steps)::

      "metadata": {"nbval_tolerance": {"rtol": 0.01, "atol": 0.0}}

  Each number then may differ by max(atol, rtol * |stored|, one unit in the last
  digit); integers included. Conclusions drawn from such numbers are asserted in the
  cell itself, so a tolerance never stands in for a claim.

Why a patch of nbval's ``IPyNbCell.compare_outputs`` and not a new runner: nbval is
what runs the notebooks; a plugin of ~100 lines that wraps its comparison keeps every
nbval feature (tags, sanitizers, ``--nbval-lax``) and its failure reports, where a
runner of our own around nbclient would re-implement them. Loaded by the root
``conftest.py``.
"""
import copy
import math
import re

import pytest

METADATA_KEY = "nbval_tolerance"
# a number as Python and numpy print it: 12, -0.5, .5, 3., 1.5e-11, -2E+03
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")


def _last_digit_unit(token):
    """One unit in the last printed digit of a decimal number, or 0 for an integer."""
    mantissa, _, exponent = token.lower().partition("e")
    if "." not in mantissa and not exponent:
        return 0.0
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def numbers_match(stored, computed, rtol=0.0, atol=0.0, widened=False):
    """True when two printed numbers agree within the tolerance described above."""
    if stored == computed:
        return True
    a, b = float(stored), float(computed)
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    # the finer of the two printed precisions (numpy trims trailing zeros: 95.0 vs 95.02)
    unit = min(_last_digit_unit(stored), _last_digit_unit(computed))
    if unit == 0.0 and not widened:
        return False  # integers compare exactly unless the cell widens the tolerance
    allowed = max(atol, rtol * abs(a), unit)
    return abs(a - b) <= allowed * (1 + 1e-9)


def texts_match(stored, computed, rtol=0.0, atol=0.0, widened=False):
    """True when two texts differ at most in their numbers, each within tolerance.

    The words between the numbers must be the same, up to runs of white space (numpy
    pads columns to the widest entry, so a sign that appears shifts a row).
    """
    s_words, c_words = NUMBER.split(stored), NUMBER.split(computed)
    if len(s_words) != len(c_words):
        return False
    if any(" ".join(s.split()) != " ".join(c.split()) for s, c in zip(s_words, c_words)):
        return False
    return all(numbers_match(s, c, rtol, atol, widened)
               for s, c in zip(NUMBER.findall(stored), NUMBER.findall(computed)))


def cell_tolerance(cell):
    """(rtol, atol, widened) from a cell's metadata; a clear error for a malformed entry."""
    spec = cell.get("metadata", {}).get(METADATA_KEY)
    if spec is None:
        return 0.0, 0.0, False
    if not isinstance(spec, dict) or set(spec) - {"rtol", "atol"} or not spec:
        raise ValueError(f"cell metadata {METADATA_KEY!r} must be a dict with 'rtol' and/or "
                         f"'atol', got {spec!r}")
    rtol, atol = float(spec.get("rtol", 0.0)), float(spec.get("atol", 0.0))
    if rtol < 0 or atol < 0:
        raise ValueError(f"cell metadata {METADATA_KEY!r} must be non-negative, got {spec!r}")
    return rtol, atol, True


def _text_fields(output):
    """(container, key) pairs of an output's comparable text: a stream's text, or
    every string-valued entry of its data (text/plain, text/html, glue records)."""
    if output.get("output_type") == "stream":
        yield output, "text"
    for key, value in output.get("data", {}).items():
        if isinstance(value, str):
            yield output["data"], key


def align_numbers(item, test, ref):
    """A copy of the computed outputs ``test`` in which every text that matches the
    stored one within tolerance is replaced by the stored text."""
    rtol, atol, widened = cell_tolerance(item.cell)
    test = copy.deepcopy(test)
    for t_out, r_out in zip(test, ref):
        if t_out.get("output_type") != r_out.get("output_type") or t_out.get("name") != r_out.get("name"):
            continue
        r_fields = dict((key, box[key]) for box, key in _text_fields(r_out))
        for box, key in _text_fields(t_out):
            if key not in r_fields:
                continue
            t_text, r_text = item.sanitize(box[key]), item.sanitize(r_fields[key])
            if t_text != r_text and texts_match(r_text, t_text, rtol, atol, widened):
                box[key] = r_fields[key]
    return test


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to extend
        return
    if getattr(IPyNbCell.compare_outputs, "_with_tolerance", False):
        return
    exact = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        return exact(self, align_numbers(self, test, ref), ref, skip_compare)

    compare_outputs._with_tolerance = True
    IPyNbCell.compare_outputs = compare_outputs
