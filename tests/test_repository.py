"""The repository stands on its own: no file refers to documents outside it."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_tracked_file_points_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    outside = ("COURSE_DESIGN", "../shared", "shared folder")
    hits = []
    for name in files:
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".yml", ".toml", ".txt", ".cfg", ""} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        hits += [f"{name}: {word}" for word in outside if word in text and name != "tests/test_repository.py"]
    assert not hits, "files refer to documents outside the repository:\n" + "\n".join(hits)


def test_license_is_an_spdx_string_with_its_file():
    """setuptools >= 77 deprecates `license = {text = ...}` (a warning on every install)."""
    import pytest

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert isinstance(project["license"], str), "project.license must be an SPDX string, not a table"
    for name in project.get("license-files", []):
        assert (ROOT / name).is_file(), f"license file {name} is missing"
