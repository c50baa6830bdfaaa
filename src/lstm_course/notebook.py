"""What the book's chapter notebooks need besides the LSTM: ``glue``.

The prose of a chapter quotes numbers that its code computes ("the gradient
shrinks by 20 orders of magnitude"). So that the text can never disagree with
the outputs, the numbers are *glued*: a code cell records them with
``glue("ch06-orders", 20)`` and the markdown inserts them with
``{glue:text}`ch06-orders``` when the book is built (myst-nb reads the record
from the stored outputs).

``glue`` here writes exactly the record that ``myst_nb.glue(name, value,
display=False)`` writes (a test compares the two), without importing myst-nb
and Sphinx (seconds per kernel) and without needing them installed: a chapter
runs wherever the package does (Binder, Colab, a student's venv).
"""
__all__ = ["glue"]

GLUE_PREFIX = "application/papermill.record/"   # myst-nb's mime prefix for hidden glue


def glue(name, value):
    """Record ``value`` under ``name`` for ``{glue:text}`name``` in the markdown; shows nothing.

    Glue rounded numbers or formatted strings (``f"{err:.0e}"``): the record is a
    stored output, compared by the tests like any other.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": str(name), "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
