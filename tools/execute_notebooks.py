"""Execute notebooks in place and save their outputs (what nbval later re-checks).

    python tools/execute_notebooks.py book/ch01_rnn_bptt.ipynb [more.ipynb ...]

Each notebook runs in its own directory with a fresh kernel. Widget state is not
stored: the built book shows the static forms, and without stored widget state
myst-nb adds no widget JavaScript (that would come from a CDN) to the pages.
Prints the wall time per notebook (it must stay under ~60 s for the test suite).
"""
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path, timeout=600):
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=False,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return elapsed


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    for p in argv:
        elapsed = execute(p)
        print(f"{elapsed:6.1f} s  {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
