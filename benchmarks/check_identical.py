"""Check that the working copy of ``lstm.py`` computes BIT-FOR-BIT the same as a reference.

The chapter notebooks store outputs computed with ``lstm_forward`` / ``lstm_backward`` and
nbval compares them, so a speed optimisation must not change a single bit. This script runs
the sequence functions of the working copy (``src/lstm_course/lstm.py``) and of a reference
version of the same file on the same inputs and compares every output with ``np.array_equal``
(exact, dtype included): h, the forward cache's arrays, ``lstm_final_state``,
``lstm_states`` and every gradient, for float32 and float64, all variants (forget_gate,
peepholes, c0, dc_T, return_dc0) and several shapes (N = 1 included, and shapes whose
backward pass uses several time blocks).

    .venv/bin/python benchmarks/check_identical.py                 # reference: git HEAD
    .venv/bin/python benchmarks/check_identical.py --ref REV       # any git revision
    .venv/bin/python benchmarks/check_identical.py --ref-file F    # a copy of lstm.py

Exit status 0 if everything is identical, 1 otherwise (each difference is printed).
"""
import argparse
import itertools
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
import lstm_course  # noqa: E402
from lstm_course import lstm as new  # noqa: E402

SHAPES = [  # (N, T, D, H)
    (1, 1, 3, 2), (1, 25, 65, 100), (2, 7, 5, 4), (3, 40, 10, 16),
    (32, 50, 64, 128), (64, 100, 128, 256), (128, 30, 32, 64),
]


def load_reference(source):
    """Execute ``source`` (the text of lstm.py) as a module inside the lstm_course package."""
    mod = types.ModuleType("lstm_course._lstm_reference")
    mod.__package__ = "lstm_course"
    mod.__file__ = "<reference lstm.py>"
    exec(compile(source, mod.__file__, "exec"), mod.__dict__)
    return mod


def make_inputs(rng, N, T, D, H, dtype):
    k = 1.0 / np.sqrt(H)
    arrays = {
        "x": rng.standard_normal((N, T, D)), "h0": rng.standard_normal((N, H)) * 0.5,
        "c0": rng.standard_normal((N, H)), "Wx": rng.uniform(-k, k, (D, 4 * H)) * 2,
        "Wh": rng.uniform(-k, k, (H, 4 * H)) * 2, "b": rng.uniform(-k, k, 4 * H),
        "dh": rng.standard_normal((N, T, H)), "dc_T": rng.standard_normal((N, H)),
        "p_i": rng.standard_normal(H) * 0.3, "p_f": rng.standard_normal(H) * 0.3,
        "p_o": rng.standard_normal(H) * 0.3,
    }
    return {name: a.astype(dtype) for name, a in arrays.items()}


def run(mod, p, forget_gate, peep, with_c0, with_dc_T, return_dc0):
    peepholes = (p["p_i"], p["p_f"], p["p_o"]) if peep else None
    h, cache = mod.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"],
                                c0=p["c0"] if with_c0 else None,
                                forget_gate=forget_gate, peepholes=peepholes)
    out = {"h": h}
    for name in ("x_tm", "hs", "cs", "tanh_cs", "gates"):
        out["cache." + name] = cache[name].copy()
    out["final_h"], out["final_c"] = mod.lstm_final_state(cache)
    for name, a in mod.lstm_states(cache).items():
        out["states." + name] = a
    grads = mod.lstm_backward(p["dh"], cache, dc_T=p["dc_T"] if with_dc_T else None,
                              return_dc0=return_dc0)
    names = ["dx", "dh0", "dWx", "dWh", "db"]
    if peep:
        names.append("dpeepholes")
    if return_dc0:
        names.append("dc0")
    assert len(grads) == len(names)
    for name, g in zip(names, grads):
        if name == "dpeepholes":
            for k, gk in zip(("dp_i", "dp_f", "dp_o"), g):
                out[k] = gk
        else:
            out[name] = g.copy()          # copy: a later call must not change it
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="HEAD", help="git revision of the reference (default HEAD)")
    ap.add_argument("--ref-file", help="path of a reference copy of lstm.py (overrides --ref)")
    args = ap.parse_args()
    if args.ref_file:
        source, label = Path(args.ref_file).read_text(), args.ref_file
    else:
        source = subprocess.run(["git", "show", f"{args.ref}:src/lstm_course/lstm.py"], cwd=ROOT,
                                check=True, capture_output=True, text=True).stdout
        label = f"git {args.ref}"
    ref = load_reference(source)
    if Path(new.__file__).read_text() == source:
        print("note: the working copy is the same text as the reference")

    n_cases = n_arrays = 0
    failures = []
    for dtype, (N, T, D, H) in itertools.product(("float32", "float64"), SHAPES):
        p = make_inputs(np.random.default_rng(N * 1000 + T), N, T, D, H, dtype)
        for variant in itertools.product((True, False), repeat=5):
            forget_gate, peep, with_c0, with_dc_T, return_dc0 = variant
            a = run(ref, p, *variant)
            b = run(new, p, *variant)
            n_cases += 1
            assert a.keys() == b.keys()
            for name in a:
                n_arrays += 1
                same = a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name])
                if not same:
                    diff = np.max(np.abs(a[name].astype(np.float64) - b[name].astype(np.float64)))
                    failures.append(f"{dtype} {(N, T, D, H)} forget_gate={forget_gate} "
                                    f"peep={peep} c0={with_c0} dc_T={with_dc_T} "
                                    f"return_dc0={return_dc0}: {name} differs (max {diff:.3e})")
    print(f"reference: {label}; working copy: {new.__file__}")
    print(f"{n_cases} cases (2 dtypes x {len(SHAPES)} shapes x 32 variants), "
          f"{n_arrays} arrays compared with np.array_equal")
    if failures:
        print(f"{len(failures)} DIFFERENCES:")
        print("\n".join(failures[:50]))
        return 1
    print("all bit-for-bit identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
