"""The book builds offline with -W -n and its pages load nothing from a CDN."""
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

# Anything fetched at page load: script src, stylesheet links, CSS @import / url()
EXTERNAL_LOAD = re.compile(
    r"""<script[^>]+src=["'](?:https?:)?//[^"']+["']"""
    r"""|<link[^>]+href=["'](?:https?:)?//[^"']+["'][^>]*>"""
    r"""|@import\s+(?:url\()?["']?(?:https?:)?//"""
    r"""|url\(["']?(?:https?:)?//""",
    re.IGNORECASE,
)


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                files.append(e["file"])
            walk(e.get("sections"))
            for part in e.get("chapters", []) if isinstance(e, dict) else []:
                files.append(part["file"])

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def test_every_toc_entry_has_a_page(built_book):
    for f in _toc_files():
        assert (built_book / f"{f}.html").exists(), f"no HTML page for {f}"


def test_no_page_loads_anything_from_the_network(built_book):
    pages = sorted(built_book.rglob("*.html")) + sorted(built_book.rglob("*.css"))
    assert len(pages) > 3
    offenders = {}
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        hits = EXTERNAL_LOAD.findall(text)
        if hits:
            offenders[str(page.relative_to(built_book))] = hits[:3]
    assert not offenders, f"pages load external resources: {offenders}"


def test_mathjax_is_served_locally(built_book):
    intro = (built_book / "book" / "intro.html").read_text(encoding="utf-8")
    m = re.search(r'<script[^>]+src="([^"]*tex-mml-chtml\.js)[^"]*"', intro)
    assert m, "no MathJax script tag on the intro page"
    assert not m.group(1).startswith(("http", "//"))
    assert (built_book / "_static" / "mathjax" / "tex-mml-chtml.js").stat().st_size > 500_000
    assert any((built_book / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))


def test_no_widget_javascript_from_a_cdn(built_book):
    for page in built_book.rglob("*.html"):
        text = page.read_text(encoding="utf-8", errors="replace")
        assert "require.min.js" not in text and "html-manager" not in text, page


def test_bibliography_is_rendered(built_book):
    intro = (built_book / "book" / "intro.html").read_text(encoding="utf-8")
    assert "Long Short-Term Memory" in intro
