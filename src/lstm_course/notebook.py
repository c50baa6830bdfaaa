"""What the book's chapter notebooks need besides the LSTM: ``glue`` and number formats.

The prose of a chapter quotes numbers that its code computes ("the gradient
shrinks by 20 orders of magnitude"). So that the text can never disagree with
the outputs, the numbers are *glued*: a code cell records them with
``glue("ch06-orders", 20)`` and the markdown inserts them with
``{glue:text}`ch06-orders``` when the book is built (myst-nb reads the record
from the stored outputs; ``{glue:md}`key:myst``` for a glued ``Markdown``).

``glue`` writes exactly the record that ``myst_nb.glue`` writes (a test
compares the two), without importing myst-nb and Sphinx (seconds per kernel)
and without needing them installed: a chapter runs wherever the package does
(Binder, Colab, a student's venv).

Glue rounded numbers or formatted strings: a glued value is a stored output,
compared by the tests like any other, so its last digits must not depend on
the machine. The formats below round for you.
"""
import math

__all__ = ["glue", "glue_math", "glue_power", "tex", "sci", "rounded"]

GLUE_PREFIX = "application/papermill.record/"   # myst-nb's mime prefix for hidden glue
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def glue(name, value, display=False):
    """Record ``value`` under ``name`` for ``{glue:text}`name``` in the markdown.

    As ``myst_nb.glue``, but shows nothing by default (``display=True`` also
    shows the value in the notebook).
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display as show

    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": str(name), "mime_prefix": prefix}
    show({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def tex(value, digits=2):
    """A number as LaTeX with ``digits`` significant digits: 0.49, 7.3, 3.7 \\times 10^{-8}."""
    if value == 0 or 1e-2 <= abs(value) < 1e3:
        return f"{value:.{digits}g}"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


def glue_math(name, *values, digits=2):
    """Glue numbers as inline math, for ``{glue:md}`name:myst```: "$a$", "$a$ and $b$", ..."""
    from IPython.display import Markdown

    items = [f"${tex(v, digits)}$" for v in values]
    text = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    glue(name, Markdown(text))


def glue_power(name, value):
    """Glue the power of ten nearest to ``value`` as math, e.g. $10^{-7}$ for 7.6e-8."""
    from IPython.display import Markdown

    glue(name, Markdown(f"$10^{{{int(round(math.log10(abs(value))))}}}$"))


def sci(x, digits=2):
    """``x`` in scientific notation for plain text: ``sci(1.05e-6) == '1.0 × 10⁻⁶'``."""
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def rounded(x, digits=2):
    """``x`` to ``digits`` significant digits in plain decimals: 0.74, 56, '38 000'."""
    value = float(f"{x:.{digits}g}")
    if abs(value) >= 1000:
        return f"{value:,.0f}".replace(",", "\u202f")   # a narrow no-break space
    return f"{value:.{digits}g}" if abs(value) < 10 ** digits else f"{value:.0f}"
