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
