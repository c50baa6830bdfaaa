"""The benchmark scripts run, check what they claim to check, and fail clearly.

No timing is asserted here (timed unit tests are flaky by nature); these are
smoke tests of the scripts in ``benchmarks/``, whose numbers are reported in
``benchmarks/README.md``.
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
TABLE_ROW = re.compile(r"^(float32|float64)\s+\(")


def run(script, *args, env=None, timeout=300):
    return subprocess.run([sys.executable, str(BENCH / script), *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=timeout)


def test_bench_lstm_without_torch_says_how_to_install_it(tmp_path):
    # A module named torch that fails to import, found before the real one.
    (tmp_path / "torch.py").write_text("raise ImportError('torch hidden by the test')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = run("bench_lstm.py", "--quick", env=env)
    assert result.returncode == 2, result.stderr
    assert "pip install torch==2.13.0" in result.stderr


@pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                    reason="PyTorch is not installed (make setup installs torch==2.13.0+cpu)")
def test_bench_lstm_checks_agreement_and_prints_the_whole_table():
    result = run("bench_lstm.py", "--quick", "--repeats", "1", "--rounds", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    agreement = [line for line in result.stdout.splitlines() if line.startswith("agreement")]
    assert len(agreement) == 3 and all(line.endswith("OK") for line in agreement), agreement
    rows = [line for line in result.stdout.splitlines() if TABLE_ROW.match(line)]
    assert len(rows) == 6, result.stdout            # 3 sizes x 2 dtypes
    for row in rows:
        numpy_ms, torch_ms, ratio = (float(v) for v in row.split(")")[1].split()[:3])
        assert numpy_ms > 0 and torch_ms > 0
        # the times are printed rounded to 0.01 ms and the ratio to 0.01
        low = (numpy_ms - 0.005) / (torch_ms + 0.005) - 0.005
        high = (numpy_ms + 0.005) / max(torch_ms - 0.005, 1e-9) + 0.005
        assert low <= ratio <= high, row


def test_bench_memory_cache_size_matches_the_cached_arrays():
    result = run("bench_memory.py")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if TABLE_ROW.match(line)]
    assert len(rows) == 6, result.stdout
    for row in rows:
        # dtype, (N, D, H) as three tokens, measured, theory, match, ...
        dtype, n, d, h = row[0], *(int(v.strip("(),")) for v in row[1:4])
        measured, theory = int(row[4]), int(row[5])
        itemsize = 4 if dtype == "float32" else 8
        assert theory == n * (d + 7 * h) * itemsize
        assert measured == theory, row
        assert int(row[7]) == n * (4 * h + d) * itemsize, row   # lstm_backward's scratch
