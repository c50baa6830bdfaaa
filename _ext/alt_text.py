"""Every image of the book gets a text alternative.

docutils writes the file name as the ``alt`` of an image that has none, so the
output images of notebook cells (``../_images/3169b1c4....png``) reached screen
readers as hashed file names. This extension gives such an image the text of its
figure's caption ("Figure: ..."), and warns, which fails the ``-W`` build, about
an image that has neither an alt text nor a caption. A cell sets its own alt text
in its metadata: ``"mystnb": {"image": {"alt": "..."}}``.
"""
import re
from pathlib import PurePosixPath

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)
_IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")


def is_missing(alt, uri):
    """True when ``alt`` is empty or only repeats the image's file name."""
    alt = (alt or "").strip()
    if not alt:
        return True
    name = PurePosixPath(str(uri)).name
    return alt == uri or alt.endswith(name) or alt.lower().endswith(_IMAGE_SUFFIXES)


# TeX commands that captions use, as the characters a screen reader can speak
_TEX = {"partial": "∂", "sigma": "σ", "delta": "δ", "gamma": "γ", "lambda": "λ", "eta": "η",
        "odot": "⊙", "cdot": "·", "times": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
        "approx": "≈", "infty": "∞", "to": "→", "ll": "≪", "gg": "≫", "prime": "′"}


def plain_text(node):
    """The text of ``node`` with TeX reduced to plain characters (``\\partial`` -> ``∂``)."""
    text = node.astext()
    text = text.replace("\\|", "‖").replace("\\,", " ").replace("\\;", " ").replace("\\!", "")
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _TEX.get(m[1], m[1]), text)
    text = text.replace("\\", "")
    text = text.replace("{", "").replace("}", "").replace("$", "")
    return re.sub(r"\s+", " ", text).strip()


def fill_alt_text(app, doctree, docname):
    for image in doctree.findall(nodes.image):
        if not is_missing(image.get("alt"), image.get("uri", "")):
            continue
        figure = image.parent
        while figure is not None and not isinstance(figure, nodes.figure):
            figure = figure.parent
        caption = next(figure.findall(nodes.caption), None) if figure is not None else None
        if caption is not None and caption.astext().strip():
            image["alt"] = "Figure: " + plain_text(caption)
        else:
            logger.warning(
                "image %s has no alt text: give it a figure caption (cell metadata "
                "mystnb.figure.caption) or an alt text (mystnb.image.alt)", image.get("uri"),
                location=image)


def setup(app):
    app.connect("doctree-resolved", fill_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
