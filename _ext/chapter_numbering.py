"""Number figures and equations by chapter ("Fig. 4.2", "(4.2)") without numbering headings.

Sphinx prefixes figure and equation numbers with the chapter number only under a
numbered toctree, and a numbered toctree also puts a number in front of every
heading. The chapters' headings already carry their numbers ("# 4. Gates ...",
"## 4.3 ..."), so the book's toctree is not numbered and Sphinx's numfig counts
figures and equations through the whole book (Fig. 1 ... Fig. 17).

After Sphinx has assigned those numbers, this extension renumbers, on every page whose
title starts with a chapter number ("4. "), the figures, tables, code blocks and
labelled display equations, and the sphinx-exercise exercises, as 4.1, 4.2, ... in the
order of the page. ``{numref}``, ``{eq}``, ``{ref}`` to an exercise and the captions all
read these numbers, so "Exercise 4.2" in the book is "## Exercise 4.2: ..." in
`exercises/ch04_gates.ipynb` (tests/test_exercise_titles.py).
"""
import re

CHAPTER_TITLE = re.compile(r"\s*(\d+)\.\s")
RENUMBERED = ("figure", "table", "code-block", "displaymath", "exercise")


def chapter_of(env, docname):
    title = env.titles.get(docname)
    m = CHAPTER_TITLE.match(title.astext()) if title is not None else None
    return int(m.group(1)) if m else None


def renumber_by_chapter(app, env):
    for docname, by_type in env.toc_fignumbers.items():
        chapter = chapter_of(env, docname)
        if chapter is None:
            continue
        for figtype in RENUMBERED:
            numbers = by_type.get(figtype)
            if numbers:
                in_order = sorted(numbers, key=numbers.__getitem__)
                by_type[figtype] = {fid: (chapter, i) for i, fid in enumerate(in_order, 1)}
    # Sphinx compares its fresh book-wide numbers with these on the next build and
    # rewrites the pages concerned; nothing else to report here.
    return []


def setup(app):
    # after Sphinx's own TocTreeCollector (priority 500) has numbered everything
    app.connect("env-get-updated", renumber_by_chapter, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
