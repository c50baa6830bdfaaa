"""Memory of backpropagation through time: the size of ``lstm_forward``'s cache.

BPTT must keep, for every time step, what the backward pass needs, so the
cache grows linearly in T. This script measures it (sum of ``nbytes`` of the
arrays in the cache) for two sequence lengths, takes the slope (bytes per time
step; constants such as the weights cancel) and compares it with the size
derived from what is cached, per time step and per sequence:

    x_t      D    the input (time-major copy, for dWx = X^T dA)
    h_t      H    hidden state (h_{t-1} is needed for dWh = H^T dA)
    c_t      H    cell state (c_{t-1} for the forget gate's derivative)
    tanh c_t H    (for the output gate's and c's derivatives)
    gates    4H   i, f, o, g after their activations
    ----------------------------------------------------------------
             D + 7H numbers  ->  N (D + 7H) * itemsize bytes per time step

It measures ``lstm_fast`` (what the models train with), with a ``Workspace`` as
the models use it. It also reports the scratch buffers that ``lstm_backward``
keeps in that workspace between calls (the gradients w.r.t. the
pre-activations, 4H numbers per step and sequence, and dx before it is put back
into batch-major order, D numbers), and, for comparison, the cache of a loop of the
readable step functions (whose dicts hold x_t, h_{t-1}, c_{t-1}, i, f, o, g,
c_t and tanh c_t; x_t is a view of the input and c_{t-1} is the previous
step's c_t, so they add 7H numbers per step: the same as the sequence cache
without its copy of x).

    .venv/bin/python benchmarks/bench_memory.py
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from lstm_course.lstm import lstm_step_forward  # noqa: E402
from lstm_course.lstm_fast import Workspace, lstm_backward, lstm_forward  # noqa: E402

CONFIGS = [(1, 65, 100), (32, 64, 128), (64, 128, 256)]   # (N, D, H)
T1, T2 = 50, 100


def arrays_in(obj, seen=None):
    """All numpy arrays reachable from a cache (dicts, lists, tuples), once each."""
    seen = {} if seen is None else seen
    if isinstance(obj, np.ndarray):
        seen.setdefault(id(obj), obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            arrays_in(v, seen)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            arrays_in(v, seen)
    return seen


def cache_bytes(cache, exclude=()):
    """Bytes owned by the cache's arrays (views count once, via their base)."""
    owners = {}
    for a in arrays_in(cache).values():
        base = a if a.base is None else a.base
        if any(base is e for e in exclude):
            continue
        owners.setdefault(id(base), base)
    return sum(b.nbytes for b in owners.values())


def sequence_cache(N, T, D, H, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = np.zeros((N, H), dtype)
    Wx = rng.standard_normal((D, 4 * H)).astype(dtype) * 0.1
    Wh = rng.standard_normal((H, 4 * H)).astype(dtype) * 0.1
    b = np.zeros(4 * H, dtype)
    workspace = Workspace()
    h, cache = lstm_forward(x, h0, Wx, Wh, b, workspace=workspace)
    lstm_backward(np.ones_like(h), cache)
    scratch_bytes = workspace.nbytes - cache_bytes(cache, exclude=(Wx, Wh, x))
    return cache_bytes(cache, exclude=(Wx, Wh)), scratch_bytes


def step_caches(N, T, D, H, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    Wx = rng.standard_normal((D, 4 * H)).astype(dtype) * 0.1
    Wh = rng.standard_normal((H, 4 * H)).astype(dtype) * 0.1
    b = np.zeros(4 * H, dtype)
    h, c = np.zeros((N, H), dtype), np.zeros((N, H), dtype)
    caches = []
    for t in range(T):
        h, c, cache = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        caches.append(cache)
    return cache_bytes(caches, exclude=(Wx, Wh, x))  # x[:, t] are views of the input


def main():
    print(f"# BPTT cache of lstm_forward: bytes per time step (slope between T = {T1} and T = {T2})\n")
    head = (f"{'dtype':8} {'(N, D, H)':15} {'measured':>10} {'theory N(D+7H)':>15} {'match':>6} "
            f"{'bwd scratch/step':>17} {'step-fn caches/step':>20}")
    print(head)
    print("-" * len(head))
    for dtype in ("float32", "float64"):
        item = np.dtype(dtype).itemsize
        for N, D, H in CONFIGS:
            b1, s1 = sequence_cache(N, T1, D, H, dtype)
            b2, s2 = sequence_cache(N, T2, D, H, dtype)
            per_step = (b2 - b1) / (T2 - T1)
            theory = N * (D + 7 * H) * item
            scratch = (s2 - s1) / (T2 - T1)
            steps = (step_caches(N, T2, D, H, dtype) - step_caches(N, T1, D, H, dtype)) / (T2 - T1)
            print(f"{dtype:8} {str((N, D, H)):15} {per_step:10.0f} {theory:15d} "
                  f"{'yes' if per_step == theory else 'NO':>6} {scratch:17.0f} {steps:20.0f}")
    print("\nbwd scratch: lstm_backward's reused (T, N, 4H) and (T, N, D) buffers, "
          "theory N*(4H + D)*itemsize per step.")
    print("step-fn caches: a Python list of lstm_step_forward caches, theory N*7H*itemsize "
          "(x_t is a view of the input, c_{t-1} the previous step's c_t).")


if __name__ == "__main__":
    main()
