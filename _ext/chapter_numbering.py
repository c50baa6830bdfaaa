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

A chapter may continue on a page of its own whose title starts with a section number
("7.12 A model trained on all the plays"): its figures continue the chapter's numbering
(Fig. 7.5, 7.6 after the chapter page's 7.1 ... 7.4), in the order of the table of
contents.
"""
import re

CHAPTER_TITLE = re.compile(r"\s*(\d+)\.(?:\d+)?\s")
RENUMBERED = ("figure", "table", "code-block", "displaymath", "exercise")


def chapter_of(env, docname):
    title = env.titles.get(docname)
    m = CHAPTER_TITLE.match(title.astext()) if title is not None else None
    return int(m.group(1)) if m else None


def renumber_by_chapter(app, env):
    pages = {}                                   # chapter -> its pages
    for docname in env.toc_fignumbers:
        chapter = chapter_of(env, docname)
        if chapter is not None:
            pages.setdefault(chapter, []).append(docname)
    for chapter, docnames in pages.items():
        for figtype in RENUMBERED:
            # Sphinx's book-wide numbers follow the table of contents, so sorting by them
            # puts a chapter's pages, and the figures within each page, in reading order
            found = [(number, docname, fid) for docname in docnames
                     for fid, number in env.toc_fignumbers[docname].get(figtype, {}).items()]
            for i, (_, docname, fid) in enumerate(sorted(found), 1):
                env.toc_fignumbers[docname][figtype][fid] = (chapter, i)
    # Sphinx compares its fresh book-wide numbers with these on the next build and
    # rewrites the pages concerned; nothing else to report here.
    return []


def setup(app):
    # after Sphinx's own TocTreeCollector (priority 500) has numbered everything
    app.connect("env-get-updated", renumber_by_chapter, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
