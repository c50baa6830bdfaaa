"""Root conftest: pytest loads it for every path it collects (tests/, book/, solutions/).

It registers ``tests/nbval_tolerance.py``, which lets nbval compare printed numbers
with a tolerance (see that module for the rules).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))

pytest_plugins = ["nbval_tolerance"]
