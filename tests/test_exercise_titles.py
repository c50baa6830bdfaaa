"""The book and the exercise notebooks number and name the exercises the same way.

The built book numbers the exercises of chapter N as "Exercise N.1", "Exercise N.2", ...
(`_ext/chapter_numbering.py`), from the order of their ``:::{exercise} Title`` directives
(labels ``chNN-exK``). A student who reads "Exercise 4.2 (Find the two bugs)" in the book
must find "## Exercise 4.2: Find the two bugs" in `exercises/ch04_gates.ipynb` and in its
solved form, and no exercise may be in one and not the other.
"""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.name for p in (ROOT / "solutions").glob("ch0*.ipynb"))
DIRECTIVE = re.compile(r"^:{3,}\{exercise\}[ \t]*(?P<title>.*)\n:label: (?P<label>\S+)", re.M)
HEADING = re.compile(r"^## Exercise (?P<number>\d+\.\d+): (?P<title>.+)$", re.M)
ANY_HEADING = re.compile(r"^#+ Exercise\b.*$", re.M)


def markdown(path):
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def book_exercises(name):
    chapter = int(name[2:4])
    found = []
    for k, m in enumerate(DIRECTIVE.finditer(markdown(ROOT / "book" / name)), 1):
        assert m["label"] == f"ch{chapter:02d}-ex{k}", (
            f"book/{name}: exercise {k} has the label {m['label']!r}; expected ch{chapter:02d}-ex{k} "
            "(labels follow the order of the exercises)")
        assert m["title"].strip(), f"book/{name}: exercise {m['label']} has no title"
        found.append((f"{chapter}.{k}", m["title"].strip()))
    return found


def notebook_exercises(path):
    text = markdown(path)
    headings = ANY_HEADING.findall(text)
    found = [(m["number"], m["title"].strip()) for m in HEADING.finditer(text)]
    assert len(found) == len(headings), (
        f"{path.relative_to(ROOT)}: headings not of the form '## Exercise N.K: Title': "
        + "; ".join(h for h in headings if not HEADING.match(h)))
    return found


@pytest.mark.parametrize("name", CHAPTERS)
@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_notebook_exercises_match_the_book(folder, name):
    book = book_exercises(name)
    notebook = notebook_exercises(ROOT / folder / name)
    assert book, f"book/{name} has no exercises"
    assert notebook == book, (
        f"{folder}/{name} and book/{name} disagree:\n  book:     {book}\n  notebook: {notebook}")


def test_prose_never_types_an_exercise_number():
    """Numbers come from Sphinx ({ref}`chNN-exK`); a typed "Exercise 5" goes stale."""
    typed = re.compile(r"(?<![#`])\bExercises? \d+\b(?!\.\d)")
    hits = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            hits += [f"book/{path.name} cell {i}: {m.group(0)!r}" for m in typed.finditer(cell.source)]
    assert not hits, "typed exercise numbers (use {ref}`chNN-exK`):\n" + "\n".join(hits)
