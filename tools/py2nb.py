"""Turn a percent-format script into a notebook (an authoring aid).

    python tools/py2nb.py draft.py book/ch01_rnn_bptt.ipynb

Cells start with a line ``# %%`` (code) or ``# %% [markdown]``; in markdown cells
every line's leading ``# `` is removed. Options on the marker line:
``tags=["a","b"]`` sets cell tags and ``nbgrader="ex1"`` / ``nbgrader-check="ex1"``
set nbgrader metadata on solution / check cells. The notebook is written without
outputs: run ``tools/execute_notebooks.py`` on it next.
"""
import json
import re
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

MARK = re.compile(r"^# %%(?P<md> \[markdown\])?(?P<opts>.*)$")


def nbgrader_meta(grade_id, *, solution, points=None):
    meta = {"grade": not solution, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution, "task": False}
    if not solution:
        meta["points"] = points or 1
    return meta


def parse(text):
    cells, kind, opts, lines = [], None, "", []

    def flush():
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "md":
            body = "\n".join(re.sub(r"^# ?", "", ln) for ln in body.split("\n"))
            cell = new_markdown_cell(body)
        else:
            cell = new_code_cell(body)
        m = re.search(r"tags=(\[[^\]]*\])", opts)
        if m:
            cell.metadata["tags"] = json.loads(m.group(1))
        m = re.search(r'nbgrader="([^"]+)"', opts)
        if m:
            cell.metadata["nbgrader"] = nbgrader_meta(m.group(1), solution=True)
            if kind == "md":
                # nbgrader requires a written answer to be a manually graded cell
                cell.metadata["nbgrader"].update(grade=True, points=1)
        m = re.search(r'nbgrader-check="([^"]+)"', opts)
        if m:
            cell.metadata["nbgrader"] = nbgrader_meta(m.group(1), solution=False)
        cells.append(cell)

    for line in text.split("\n"):
        m = MARK.match(line)
        if m:
            flush()
            kind = "md" if m.group("md") else "code"
            opts, lines = m.group("opts"), []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def main(src, dst):
    nb = new_notebook(cells=parse(open(src, encoding="utf-8").read()))
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, dst)


if __name__ == "__main__":
    main(*sys.argv[1:3])
