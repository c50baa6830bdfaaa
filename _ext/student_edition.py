"""The student edition serves no solution, not even in its downloadable sources.

sphinx-exercise's ``hide_solutions`` leaves the ``solution`` directives out of the
HTML, but Sphinx still copies every page's source into ``_sources/`` (the theme's
download button serves it), solutions included. When ``hide_solutions`` is on,
this extension rewrites those copies with every solution block removed, and each
``{exercise}`` then says where its checked version lives.
"""
import json
import re
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

# the opening fence of a solution directive: ```{solution} or :::{solution} (3 or more)
_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{solution\}")


def strip_solution_blocks(text):
    """``text`` (MyST markdown) without its ``{solution}`` directives.

    A block runs from its opening fence to the next line that holds only the same
    fence character, at least as many times (MyST's rule for closing a fence).
    Raises ValueError for a block that is never closed.
    """
    lines = text.splitlines(keepends=True)
    out, i = [], 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        char, n = m["fence"][0], len(m["fence"])
        close = re.compile(rf"^[ \t]*{re.escape(char)}{{{n},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j].rstrip("\r\n")):
            j += 1
        if j == len(lines):
            raise ValueError(f"a {{solution}} block opened on line {i + 1} is never closed")
        i = j + 1
    return "".join(out)


def _scrub_notebook(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cell["source"] = strip_solution_blocks(source)
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def scrub_sources(app, exception):
    if exception is not None or not app.config.hide_solutions or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    if not sources.is_dir():
        return
    n = 0
    for path in sorted(sources.rglob("*")):
        if not path.is_file():
            continue
        try:
            if path.suffix == ".ipynb":
                _scrub_notebook(path)
            elif path.suffix in (".md", ".txt", ".rst"):
                path.write_text(strip_solution_blocks(path.read_text(encoding="utf-8")), encoding="utf-8")
            else:
                continue
        except ValueError as exc:
            logger.warning("%s: %s", path.relative_to(app.outdir), exc)
        n += 1
    logger.info("student edition: removed the solutions from %d downloadable sources", n)


def setup(app):
    app.connect("build-finished", scrub_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
