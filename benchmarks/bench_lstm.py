"""Benchmark: the course's numpy LSTM against PyTorch's CPU ``nn.LSTM``.

What is timed: ONE training step of an LSTM layer, i.e. the forward pass over
a whole (N, T, D) batch followed by the full backpropagation through time
(gradients w.r.t. x, h0 and all weights), for

    numpy:  h, cache = lstm_forward(x, h0, Wx, Wh, b, workspace=ws); lstm_backward(dh, cache)
    torch:  out, _ = lstm(x, (h0, c0)); out.backward(dh)      (batch_first)

The numpy side is ``lstm_course.lstm_fast`` with a ``Workspace`` kept from
step to step, as the models train (``--no-workspace``: without one), or with
``--impl reference`` the readable ``lstm_course.lstm``, a loop of step functions.

with the same weights, inputs and dtype on both sides. Before timing, the two
are checked to agree in float64 (1e-10 on h and on every gradient).

Both sides run in this one process. Each side is warmed up and then timed in
its OWN block of runs (never interleaved call by call: on a 2-core machine
alternating calls make the two libraries' thread pools fight and corrupt the
numbers). To keep a slow drift of the machine's load from favouring one side,
the blocks are repeated in several rounds (numpy block, torch block, then the
other way round, ...). Reported: the median over all runs of each side, of
the wall-clock time and of the process CPU time (the sum over all threads; on
a loaded machine this is the steadier number for --threads 1, but it also
counts threads that spin while waiting), the lowest and highest ratio of the
single rounds, which shows how much the machine moved during the run, and the
minor page faults per call (memory the process had to get from the kernel
afresh).

Sharing one process has a side effect besides threads: glibc's malloc serves
a large request either with mmap (returned to the kernel when freed) or from
its heap (whose top it gives back once more than a threshold is free), and
both thresholds adapt to the largest mmapped block (up to 32 MiB) that the
process has freed so far. So the agreement check, the matmul peak and the
other library's allocations change how often a side's allocations page-fault.
``--isolated`` therefore times each block in a fresh process that times only
that library's LSTM (the situation of a training script; torch is imported in
both kinds of process, because this script needs it); compare the two tables,
and see benchmarks/README.md.

GFLOP/s counts only the matrix products: forward 2 N T 4H (D + H), backward
about twice that, so 3 * 2 N T 4H (D + H) per step. "% peak" compares with a
large (2048 x 2048) matrix product of the same library and dtype, measured
in the same run.

Run from the repository root:

    .venv/bin/python benchmarks/bench_lstm.py              # both libraries' default threads
    .venv/bin/python benchmarks/bench_lstm.py --threads 1  # single-threaded
    .venv/bin/python benchmarks/bench_lstm.py --isolated   # each block in a fresh process
    .venv/bin/python benchmarks/bench_lstm.py --quick      # fewer repeats
    .venv/bin/python benchmarks/bench_lstm.py --impl reference   # the readable loop of steps

Needs PyTorch (the CPU build): pip install torch==2.13.0. threadpoolctl is optional (used to set
and to report numpy's BLAS threads and kernel).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

SIZES = [(1, 25, 65, 100), (32, 50, 64, 128), (64, 100, 128, 256)]   # (N, T, D, H)
DTYPES = ["float32", "float64"]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="1 round of 5 runs per side instead of 3 rounds of 11: numbers are rougher")
    ap.add_argument("--threads", type=int, default=None, metavar="N",
                    help="torch.set_num_threads(N) and numpy's BLAS threads = N "
                         "(default: each library's own default)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed runs per block (default 11, --quick 5)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="rounds of (numpy block, torch block) per size (default 3, --quick 1)")
    ap.add_argument("--isolated", action="store_true",
                    help="time every block in a fresh process that runs only that library")
    ap.add_argument("--impl", choices=["fast", "reference"], default="fast",
                    help="the numpy side: lstm_course.lstm_fast (default) or the reference lstm_course.lstm")
    ap.add_argument("--no-workspace", action="store_true",
                    help="lstm_fast without a Workspace: every call allocates its cache afresh")
    ap.add_argument("--worker", nargs=6, metavar=("SIDE", "DTYPE", "N", "T", "D", "H"),
                    help=argparse.SUPPRESS)   # internal: one block, for --isolated
    return ap.parse_args(argv)


ARGS = parse_args()
if ARGS.threads is not None:
    if ARGS.threads < 1:
        sys.exit("--threads must be >= 1")
    # Before numpy is imported, so that its BLAS starts with N threads even
    # when threadpoolctl is not installed.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

try:
    import torch
except ImportError:
    sys.stderr.write(
        "bench_lstm.py compares with PyTorch, which is not installed.\n"
        "Install it (the CPU build is enough) into this environment and run again:\n"
        "    .venv/bin/pip install torch==2.13.0\n")
    sys.exit(2)

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from lstm_course import lstm as lstm_reference, lstm_fast  # noqa: E402
from lstm_course.torch_layout import to_torch_layout  # noqa: E402

IMPL = lstm_fast if ARGS.impl == "fast" else lstm_reference

TORCH_DTYPE = {"float32": torch.float32, "float64": torch.float64}


# ----------------------------------------------------------------------------
# environment
# ----------------------------------------------------------------------------
def setup_threads():
    """Apply --threads; return a description of both libraries' threading."""
    limiter = None
    if ARGS.threads is not None:
        torch.set_num_threads(ARGS.threads)
        if threadpoolctl is not None:
            limiter = threadpoolctl.threadpool_limits(ARGS.threads, user_api="blas")
    lines = []
    if threadpoolctl is not None:
        for info in threadpoolctl.threadpool_info():
            if info["user_api"] == "blas":
                lines.append(f"numpy BLAS: {info['internal_api']} {info.get('version')}, "
                             f"kernel {info.get('architecture')}, {info['num_threads']} threads "
                             f"({info['prefix']})")
    else:
        cfg = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
        blas = cfg.get("Build Dependencies", {}).get("blas", {}) if isinstance(cfg, dict) else {}
        lines.append(f"numpy BLAS: {blas.get('name', '?')} {blas.get('version', '')} "
                     "(threadpoolctl not installed: kernel and thread count not shown; "
                     "pip install threadpoolctl)")
    source = "--threads" if ARGS.threads is not None else "library default"
    lines.append(f"torch: {torch.get_num_threads()} intra-op threads ({source}), "
                 f"MKL {torch.backends.mkl.is_available()}, oneDNN {torch.backends.mkldnn.is_available()}")
    lines.append("OPENBLAS_CORETYPE={!r} OPENBLAS_L2_SIZE={!r}".format(
        os.environ.get("OPENBLAS_CORETYPE"), os.environ.get("OPENBLAS_L2_SIZE")))
    return limiter, lines


def describe_machine():
    load = os.getloadavg()
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
            f"Python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__}")


# ----------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------
def measure(fn, repeats, warmup):
    """Warm up, then time ``fn`` ``repeats`` times; medians of (wall, cpu) seconds."""
    wall, cpu, _ = timed_runs(fn, repeats, warmup)
    return float(np.median(wall)), float(np.median(cpu))


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def timed_runs(fn, repeats, warmup):
    """Warm up, then time ``fn`` ``repeats`` times.

    Returns (wall, cpu, faults): lists of seconds per run, and the minor page
    faults per run (mean over the timed runs).
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    f0 = minor_faults()
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return wall, cpu, (minor_faults() - f0) / repeats


def block_in_fresh_process(side, dtype, size, repeats):
    """``timed_runs`` of one side, in a new Python process that runs only that side."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", side, dtype,
           *map(str, size), "--repeats", str(repeats)]
    if ARGS.quick:
        cmd.append("--quick")
    if ARGS.threads is not None:
        cmd += ["--threads", str(ARGS.threads)]
    cmd += ["--impl", ARGS.impl] + (["--no-workspace"] if ARGS.no_workspace else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["wall"], result["cpu"], result["faults"]


def worker(side, dtype, size, repeats, warmup):
    """--worker: time one block of one side in this (fresh) process; print JSON."""
    setup_threads()
    p, lstm = make_problem(*size, dtype, with_torch=(side == "torch"))
    fn = numpy_step(p) if side == "numpy" else torch_step(p, lstm)
    # A new process starts cold (caches, CPU clock, lazy initialisation): for
    # the small sizes a few warm-up runs take only milliseconds, so warm up
    # for at least half a second.
    t_end = time.perf_counter() + 0.5
    while time.perf_counter() < t_end:
        fn()
    wall, cpu, faults = timed_runs(fn, repeats, warmup)
    print(json.dumps({"wall": wall, "cpu": cpu, "faults": faults}))


def compare(blocks, rounds):
    """Time both sides in alternating blocks, ``rounds`` rounds.

    ``blocks[side]()`` warms up and times one block of that side and returns
    what ``timed_runs`` returns. Returns (medians, faults, round_ratios):
    medians[side] = (wall, cpu) median seconds over all runs of that side,
    faults[side] = minor page faults per run (mean over the blocks), and
    round_ratios = numpy / torch median wall time of each round.
    """
    runs = {side: ([], [], []) for side in blocks}
    round_ratios = []
    for r in range(rounds):
        order = ("numpy", "torch") if r % 2 == 0 else ("torch", "numpy")
        this_round = {}
        for side in order:
            # warm up in every block: the other library has just used the caches and threads
            wall, cpu, faults = blocks[side]()
            runs[side][0].extend(wall)
            runs[side][1].extend(cpu)
            runs[side][2].append(faults)
            this_round[side] = np.median(wall)
        round_ratios.append(this_round["numpy"] / this_round["torch"])
    medians = {side: (float(np.median(w)), float(np.median(c))) for side, (w, c, _) in runs.items()}
    faults = {side: float(np.mean(f)) for side, (_, _, f) in runs.items()}
    return medians, faults, round_ratios


def matmul_peak(repeats):
    """GFLOP/s of a 2048 x 2048 matrix product, per library and dtype."""
    n = 2048
    flops = 2.0 * n ** 3
    rng = np.random.default_rng(0)
    peaks = {}
    for dt in DTYPES:
        a = rng.standard_normal((n, n)).astype(dt)
        b = rng.standard_normal((n, n)).astype(dt)
        out = np.empty((n, n), dtype=dt)
        wall, _ = measure(lambda: np.matmul(a, b, out=out), repeats, 1)
        peaks["numpy", dt] = flops / wall / 1e9
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        tout = torch.empty((n, n), dtype=TORCH_DTYPE[dt])
        wall, _ = measure(lambda: torch.matmul(ta, tb, out=tout), repeats, 1)
        peaks["torch", dt] = flops / wall / 1e9
    return peaks


def make_problem(N, T, D, H, dtype, seed=0, with_torch=True):
    """Inputs and weights (PyTorch's default init scale), and a matching nn.LSTM
    (None with ``with_torch=False``)."""
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(H)
    p = {
        "x": rng.standard_normal((N, T, D)),
        "h0": rng.standard_normal((N, H)) * 0.5,
        "Wx": rng.uniform(-k, k, (D, 4 * H)),
        "Wh": rng.uniform(-k, k, (H, 4 * H)),
        "b": rng.uniform(-k, k, 4 * H),
        "dh": rng.standard_normal((N, T, H)),
    }
    p = {name: v.astype(dtype) for name, v in p.items()}
    if not with_torch:
        return p, None
    lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=TORCH_DTYPE[dtype])
    w_ih, w_hh, b_ih, b_hh = to_torch_layout(p["Wx"], p["Wh"], p["b"])
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(w_ih))
        lstm.weight_hh_l0.copy_(torch.from_numpy(w_hh))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        lstm.bias_hh_l0.copy_(torch.from_numpy(b_hh))
    return p, lstm


def numpy_step(p):
    kw = {}
    if IMPL is lstm_fast and not ARGS.no_workspace:
        kw["workspace"] = lstm_fast.Workspace()   # kept from step to step, as CharLSTM does

    def run():
        h, cache = IMPL.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"], **kw)
        return h, IMPL.lstm_backward(p["dh"], cache)
    return run


def torch_step(p, lstm):
    x = torch.from_numpy(p["x"]).requires_grad_()
    h0 = torch.from_numpy(p["h0"][None]).requires_grad_()
    c0 = torch.zeros_like(h0)
    dh = torch.from_numpy(p["dh"])
    params = list(lstm.parameters())

    def run():
        for q in params + [x, h0]:
            q.grad = None
        out, _ = lstm(x, (h0, c0))
        out.backward(dh)
        return out, x, h0
    return run


def check_agreement(N, T, D, H):
    """float64: h and all gradients must agree with torch to 1e-10. Return max error."""
    p, lstm = make_problem(N, T, D, H, "float64", seed=1)
    h, (dx, dh0, dWx, dWh, db) = numpy_step(p)()
    out, x, h0 = torch_step(p, lstm)()
    from lstm_course.lstm import from_torch_layout
    tWx, tWh, tb = from_torch_layout(lstm.weight_ih_l0.grad.numpy(), lstm.weight_hh_l0.grad.numpy(),
                                     lstm.bias_ih_l0.grad.numpy())
    pairs = {"h": (h, out.detach().numpy()), "dx": (dx, x.grad.numpy()),
             "dh0": (dh0, h0.grad.numpy()[0]), "dWx": (dWx, tWx), "dWh": (dWh, tWh), "db": (db, tb)}
    worst = 0.0
    for name, (ours, theirs) in pairs.items():
        err = float(np.max(np.abs(ours - theirs)))
        worst = max(worst, err)
        if not err <= 1e-10:
            raise SystemExit(f"MISMATCH at {(N, T, D, H)} float64: {name} differs from torch by {err:.3e}")
    return worst


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------
def main():
    repeats = ARGS.repeats or (5 if ARGS.quick else 11)
    rounds = ARGS.rounds or (1 if ARGS.quick else 3)
    warmup = 2 if ARGS.quick else 3
    if ARGS.worker:
        side, dtype, *size = ARGS.worker
        worker(side, dtype, tuple(int(v) for v in size), repeats, warmup)
        return
    limiter, thread_lines = setup_threads()
    impl = ("lstm_course.lstm (reference loop of steps)" if IMPL is lstm_reference else
            f"lstm_course.lstm_fast ({'no workspace' if ARGS.no_workspace else 'with a Workspace'})")
    print(f"# numpy LSTM ({impl}) vs torch.nn.LSTM, forward + full BPTT backward")
    print("machine:", describe_machine())
    for line in thread_lines:
        print(line)
    print(f"{rounds} round(s) per size; in each, each side timed in its own block of {repeats} "
          f"runs after {warmup} warm-up runs; medians over all runs of a side")
    if ARGS.isolated:
        print("--isolated: every block runs in a fresh process that runs only that library "
              "(agreement and matmul peak: in this process)")

    for N, T, D, H in SIZES:
        err = check_agreement(N, T, D, H)
        print(f"agreement float64 {(N, T, D, H)}: max |numpy - torch| = {err:.1e} (<= 1e-10) OK")

    peaks = matmul_peak(max(3, repeats // 2))
    print("2048x2048 matmul peak (GFLOP/s): " + ", ".join(
        f"{lib} {dt} {peaks[lib, dt]:.0f}" for dt in DTYPES for lib in ("numpy", "torch")))
    print()
    header = (f"{'dtype':8} {'(N, T, D, H)':18} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6}  "
              f"{'rounds':>9}  {'cpu np':>8} {'cpu th':>8} {'ratio':>6}  "
              f"{'np GF/s':>8} {'%pk':>4} {'th GF/s':>8} {'%pk':>4}  {'flt np':>6} {'flt th':>6}")
    print(header)
    print("-" * len(header))
    rows = []
    for dt in DTYPES:
        for N, T, D, H in SIZES:
            size = (N, T, D, H)
            if ARGS.isolated:
                blocks = {side: (lambda side=side: block_in_fresh_process(side, dt, size, repeats))
                          for side in ("numpy", "torch")}
            else:
                p, lstm = make_problem(N, T, D, H, dt)
                blocks = {"numpy": lambda f=numpy_step(p): timed_runs(f, repeats, warmup),
                          "torch": lambda f=torch_step(p, lstm): timed_runs(f, repeats, warmup)}
            medians, faults, round_ratios = compare(blocks, rounds)
            (np_wall, np_cpu), (th_wall, th_cpu) = medians["numpy"], medians["torch"]
            spread = f"{min(round_ratios):.2f}-{max(round_ratios):.2f}"
            gflop = 3 * 2.0 * N * T * 4 * H * (D + H) / 1e9
            np_gf, th_gf = gflop / np_wall, gflop / th_wall
            row = (f"{dt:8} {str((N, T, D, H)):18} {np_wall * 1e3:9.2f} {th_wall * 1e3:9.2f} "
                   f"{np_wall / th_wall:6.2f} {spread:>9}  {np_cpu * 1e3:8.2f} {th_cpu * 1e3:8.2f} "
                   f"{np_cpu / th_cpu:6.2f}  {np_gf:8.1f} {100 * np_gf / peaks['numpy', dt]:4.0f} "
                   f"{th_gf:8.1f} {100 * th_gf / peaks['torch', dt]:4.0f}  "
                   f"{faults['numpy']:6.0f} {faults['torch']:6.0f}")
            print(row, flush=True)
            rows.append(row)
    load = os.getloadavg()
    print(f"\nratio = numpy / torch (below 1: numpy is faster); rounds = lowest and highest ratio "
          f"of the single rounds. ms and GFLOP/s: wall clock; cpu: process CPU time; "
          f"flt: minor page faults per call. load average at the end: {load[0]:.2f}")
    if limiter is not None:
        limiter.restore_original_limits()


if __name__ == "__main__":
    main()
