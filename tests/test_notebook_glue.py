"""lstm_course.notebook.glue writes the same record as myst_nb.glue (what the book build reads)."""
import nbformat
import pytest
from nbclient import NotebookClient

pytest.importorskip("myst_nb")

CODE = """
from lstm_course.notebook import glue
glue("a-number", 0.25)
glue("a-string", "1.0e-12")
import myst_nb
myst_nb.glue("a-number", 0.25, display=False)
myst_nb.glue("a-string", "1.0e-12", display=False)
"""


@pytest.mark.slow
def test_glue_writes_what_myst_nb_writes():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CODE)])
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    outputs = nb.cells[0].outputs
    assert len(outputs) == 4
    ours, theirs = outputs[:2], outputs[2:]
    assert ours == theirs
    assert ours[0]["metadata"]["scrapbook"] == {"name": "a-number",
                                                "mime_prefix": "application/papermill.record/"}
    assert ours[1]["data"] == {"application/papermill.record/text/plain": "'1.0e-12'"}


def test_number_formats():
    from lstm_course.notebook import rounded, sci, tex

    assert tex(0.4912) == "0.49" and tex(3.66e-8) == "3.7 \\times 10^{-8}" and tex(0) == "0"
    assert sci(1.05e-6) == "1.0 × 10⁻⁶" and sci(2.5e20, 3) == "2.50 × 10²⁰"
    assert rounded(0.7412) == "0.74" and rounded(56.3) == "56" and rounded(38012) == "38\u202f000"
