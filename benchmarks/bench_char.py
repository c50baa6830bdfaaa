"""Benchmark: character-level training throughput (characters per second).

Compares, on the text shipped with the package and at min-char-rnn's sizes
(hidden size H = 100, chunks of T = 25 characters, vocabulary V of the text):

* min-char-rnn: ``char_rnn.loss_fun``, Karpathy's unbatched loop over time
  steps with column vectors (a vanilla RNN, one sequence);
* ``models.CharRNN`` (batched vanilla RNN) and ``models.CharLSTM`` (built on
  ``lstm_forward`` / ``lstm_backward`` + temporal affine + softmax loss), with
  N = 1 sequence (the same work as min-char-rnn, except that an LSTM layer
  has four times the weights) and with N = 32 sequences per batch.

One training step = loss and gradients on a chunk + min-char-rnn's update
(clip every gradient to [-5, 5], Adagrad with learning rate 0.1), the same
for every model. Throughput = N * T characters / median time of a step
(median of >= 11 timed runs of several steps each, after warm-up; each model
timed in its own block).

    .venv/bin/python benchmarks/bench_char.py [--quick] [--threads N]
"""
import argparse
import os
import sys
import time
from pathlib import Path

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--quick", action="store_true", help="fewer repeats (5)")
ap.add_argument("--threads", type=int, default=None, metavar="N",
                help="numpy's BLAS threads (default: numpy's default)")
ARGS = ap.parse_args()
if ARGS.threads is not None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from lstm_course import char_rnn  # noqa: E402
from lstm_course.models import CharLSTM, CharRNN  # noqa: E402
from lstm_course.tasks import build_vocab, load_text, text_batches  # noqa: E402

H, T, LR = 100, 25, 0.1


def adagrad(params, grads, memory):
    """min-char-rnn's update: clip to [-5, 5], then Adagrad."""
    for k, p in params.items():
        g = grads[k]
        np.clip(g, -5, 5, out=g)
        m = memory[k]
        m += g * g
        p -= LR * g / np.sqrt(m + 1e-8)


def min_char_rnn_trainer(ids, V, dtype):
    params = char_rnn.init_params(V, H, rng=0, dtype=dtype)
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    state = {"h": np.zeros((H, 1), dtype=dtype), "pos": 0}

    def step():
        pos = state["pos"]
        if pos + T + 1 >= len(ids):
            pos, state["h"] = 0, np.zeros((H, 1), dtype=dtype)
        inputs = [int(i) for i in ids[pos:pos + T]]
        targets = [int(i) for i in ids[pos + 1:pos + T + 1]]
        _, grads, state["h"] = char_rnn.loss_fun(inputs, targets, state["h"], params)
        adagrad(params, {k: grads["d" + k] for k in params}, memory)
        state["pos"] = pos + T
    return step, 1


def model_trainer(cls, text, char_to_ix, V, N, dtype):
    model = cls(V, H, seed=0, dtype=dtype)
    memory = {k: np.zeros_like(v) for k, v in model.parameters.items()}
    rng = np.random.default_rng(0)
    batches = [text_batches(text, char_to_ix, N, T, seed=rng) for _ in range(16)]
    state = {"k": 0, "s": None}

    def step():
        inputs, targets = batches[state["k"] % len(batches)]
        state["k"] += 1
        _, grads, state["s"] = model.loss_and_grads(inputs, targets, state["s"])
        adagrad(model.parameters, grads, memory)
    return step, N


def throughput(step, N, repeats, steps_per_run):
    for _ in range(max(3, steps_per_run)):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps_per_run):
            step()
        times.append((time.perf_counter() - t0) / steps_per_run)
    sec = float(np.median(times))
    return N * T / sec, sec


def main():
    repeats = 5 if ARGS.quick else 11
    text = load_text()
    chars, char_to_ix = build_vocab(text)[:2]
    V = len(chars)
    ids = np.array([char_to_ix[c] for c in text])
    load = os.getloadavg()
    print(f"# char-level training throughput, V = {V}, H = {H}, T = {T}; "
          f"numpy {np.__version__}, load average {load[0]:.2f}")
    print(f"one step = loss + gradients + clip + Adagrad; median of {repeats} runs\n")
    rows = [("min-char-rnn loss_fun (RNN, unbatched)", 1, "float64",
             lambda: min_char_rnn_trainer(ids, V, np.float64))]
    for N in (1, 32):
        for dtype in ("float64", "float32"):
            rows.append((f"CharRNN  (batched RNN)", N, dtype,
                         lambda N=N, dtype=dtype: model_trainer(CharRNN, text, char_to_ix, V, N, dtype)))
            rows.append((f"CharLSTM (lstm_forward/backward)", N, dtype,
                         lambda N=N, dtype=dtype: model_trainer(CharLSTM, text, char_to_ix, V, N, dtype)))
    print(f"{'model':40} {'N':>3} {'dtype':8} {'ms/step':>8} {'chars/s':>10} {'vs min-char-rnn':>16}")
    base = None
    for name, N, dtype, make in rows:
        step, n = make()
        cps, sec = throughput(step, n, repeats, 20 if N == 1 else 4)
        base = base or cps
        print(f"{name:40} {N:3d} {dtype:8} {sec * 1e3:8.2f} {cps:10.0f} {cps / base:15.2f}x", flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
