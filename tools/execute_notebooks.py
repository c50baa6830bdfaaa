"""Execute notebooks in place, save their outputs (what nbval later re-checks) and stamp them.

    python tools/execute_notebooks.py book/ch01_rnn_bptt.ipynb [more.ipynb ...]
    python tools/execute_notebooks.py --jobs 1 book/*.ipynb solutions/*.ipynb

Each notebook runs in its own directory with a fresh kernel, ``--jobs`` at a time
(default 2, one per core here; each kernel then uses one BLAS thread). After it ran,
its metadata gets a provenance stamp (``tools/provenance.py``): the digest of the
package and of its code cells, which ``tests/test_provenance.py`` compares, so that
no stored output is older than the code that made it.

Widget state is not stored: the built book shows the static forms, and without stored
widget state myst-nb adds no widget JavaScript (that would come from a CDN) to the pages.
Prints the wall time per notebook (it must stay under ~60 s for the test suite).
"""
import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import provenance  # noqa: E402


def execute(path, timeout=600):
    """Execute one notebook in place and stamp it; return its wall time in seconds."""
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
    provenance.stamp(nb)
    nbformat.write(nb, path)
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="the .ipynb files to execute")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (default 2)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    if args.jobs > 1:
        # one BLAS thread per kernel, so that two kernels do not fight over two cores
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for path, elapsed in zip(args.notebooks, pool.map(execute, args.notebooks)):
            print(f"{elapsed:6.1f} s  {path}", flush=True)
    print(f"{time.perf_counter() - start:6.1f} s  in all ({len(args.notebooks)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
