"""Put the student bundle (every chapter's exercise notebook, a wheel of the course
package, a README and a requirements.txt) into the built book as one zip file,
``_downloads/lstm-course-exercises.zip``, which the page "Exercises and downloads"
links to. It is what ``lstm-course assign`` writes for all chapters.
"""
import tempfile
import zipfile
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
BUNDLE = "lstm-course-exercises"


def write_bundle(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from lstm_course import cli

    root = Path(app.confdir)
    chapters = sorted(n for n in (cli.chapter_number(p) for p in (root / "solutions").glob("ch*.ipynb"))
                      if n is not None)
    target = Path(app.outdir) / "_downloads" / f"{BUNDLE}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / BUNDLE
        try:
            written = cli.assign(chapters, folder, root=root)
        except (RuntimeError, ValueError) as exc:
            logger.warning("could not write the student bundle: %s", exc)
            return
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(written):
                zf.write(path, f"{BUNDLE}/{path.name}")
    logger.info("student bundle: %s (%d files)", target.relative_to(app.outdir), len(written))


def setup(app):
    app.connect("build-finished", write_bundle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
