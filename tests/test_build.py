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
    """Every file listed in _toc.yml (root, parts, chapters, sections)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            files.append(e["file"])
            walk(e.get("sections"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def test_every_book_page_is_in_the_toc():
    listed = set(_toc_files())
    pages = {p.with_suffix("").relative_to(ROOT).as_posix()
             for p in (ROOT / "book").iterdir() if p.suffix in (".md", ".ipynb")}
    assert pages - listed == set(), f"pages missing from _toc.yml: {sorted(pages - listed)}"
    assert len(listed) == len(set(listed)), "a page is listed twice in _toc.yml"


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


def test_bibliography_is_rendered_and_cited(built_book):
    bib = (built_book / "book" / "bibliography.html").read_text(encoding="utf-8")
    for title in ["Long Short-Term Memory", "Learning to Forget", "Learning Precise Timing",
                  "A Search Space Odyssey", "On the Difficulty of Training Recurrent Neural Networks",
                  "min-char-rnn"]:
        assert title.lower() in bib.lower(), f"{title!r} missing from the bibliography"
    intro = (built_book / "book" / "intro.html").read_text(encoding="utf-8")
    assert re.search(r'href="bibliography.html#id\d+"', intro), "the intro's citation does not link to the bibliography"


SOLUTION_BLOCK = re.compile(r'<div[^>]+class="[^"]*\bsolution\b[^"]*admonition', re.IGNORECASE)


def _segments(node):
    """Normalised lines of code blocks and paragraphs under ``node`` (a BeautifulSoup node)."""
    out = []
    for pre in node.find_all("pre"):
        out += [re.sub(r"\s+", " ", ln).strip() for ln in pre.get_text().split("\n")]
    for p in node.find_all(["p", "li"]):
        out.append(re.sub(r"\s+", " ", p.get_text(" ")).strip())
    return [x for x in out if len(x) > 25]


def _page_texts(html_text):
    """(segments of the whole page, segments inside its solution blocks)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_text, "html.parser")
    inside = [seg for div in soup.find_all("div", class_="solution") for seg in _segments(div)]
    return _segments(soup), inside


def test_student_edition_has_no_solutions(built_book, built_student_book):
    pages = sorted(p.relative_to(built_book) for p in (built_book / "book").glob("*.html"))
    n_solutions = 0
    for rel in pages:
        teacher_html = (built_book / rel).read_text(encoding="utf-8")
        student_html = (built_student_book / rel).read_text(encoding="utf-8")
        assert not SOLUTION_BLOCK.search(student_html), f"{rel}: the student edition has a solution block"
        teacher, inside = _page_texts(teacher_html)
        student, _ = _page_texts(student_html)
        if not inside:
            continue
        n_solutions += 1
        assert "exercise" in student_html, f"{rel}: the exercises are missing from the student edition"
        # a line of a solution may appear in the student page only as often as it appears
        # in the teacher page outside the solutions (e.g. code the chapter itself shows)
        for seg in set(inside):
            allowed = teacher.count(seg) - inside.count(seg)
            assert student.count(seg) <= allowed, f"{rel}: solution text leaks: {seg!r}"
    assert n_solutions >= 1, "no page has solutions: the test would prove nothing"


ROLE_TEXT = re.compile(r"\{(?:numref|ref|eq|doc|cite:[pt])\}`|\?\?")


def _numbered_targets(pages):
    """{(page, id): number text} of every numbered figure ("Fig. 4.2") and equation ("(4.2)")."""
    numbers = {}
    for name, soup in pages.items():
        for fig in soup.find_all("figure"):
            num = fig.find("span", class_="caption-number")
            if num is not None and fig.get("id"):
                numbers[(name, fig["id"])] = num.get_text(" ", strip=True)
        for eqno in soup.find_all("span", class_="eqno"):
            math = eqno.find_parent(id=re.compile(r"^equation-"))
            numbers[(name, math["id"])] = eqno.find(string=True).strip()
    return numbers


def test_chapters_number_figures_and_equations_by_chapter(built_book):
    """Each chapter page (1-7) has numbered figures "Fig. N.1, N.2, ..." and equations "(N.1), ...",
    and every {numref}/{eq} link names the number of the figure or equation it points to."""
    from bs4 import BeautifulSoup

    pages = {p.name: BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser")
             for p in sorted((built_book / "book").glob("*.html"))}
    numbers = _numbered_targets(pages)
    chapters = sorted(n for n in pages if re.match(r"ch0[1-8]_", n))
    assert len(chapters) == 8, chapters
    for name in chapters:
        n = int(name[2:4])
        figs = [v for (page, _), v in numbers.items() if page == name and v.startswith("Fig.")]
        assert figs, f"{name}: no numbered figure caption"
        assert figs == [f"Fig. {n}.{k}" for k in range(1, len(figs) + 1)], f"{name}: {figs}"
        eqs = [v for (page, _), v in numbers.items() if page == name and v.startswith("(")]
        assert eqs == [f"({n}.{k})" for k in range(1, len(eqs) + 1)], f"{name}: {eqs}"

        soup = pages[name]
        n_refs = 0
        for a in soup.find_all("a", class_="reference", href=True):
            text = a.get_text(" ", strip=True)
            m = re.fullmatch(r"(Fig\.|Eq\.) (\d+\.\d+)", text)
            if not m:
                continue
            page, _, anchor = a["href"].partition("#")
            target = numbers.get((page or name, anchor))
            expected = f"Fig. {m.group(2)}" if m.group(1) == "Fig." else f"({m.group(2)})"
            assert target == expected, f"{name}: link {text!r} -> {a['href']} is {target!r}"
            n_refs += 1
        assert n_refs, f"{name}: no figure or equation is referred to by number"


def test_chapters_leave_no_cross_reference_unresolved(built_book):
    """No {numref}/{ref}/{eq}/{doc} role left as literal text, no "??", no dangling internal link."""
    from bs4 import BeautifulSoup

    book = built_book / "book"
    for page in sorted(book.glob("ch0[1-8]_*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        article = soup.find("article") or soup
        for code in article.find_all(["pre", "code"]):
            code.decompose()
        text = article.get_text(" ")
        hits = ROLE_TEXT.findall(text)
        assert not hits, f"{page.name}: unresolved cross-reference text {hits[:3]}"
        for a in article.find_all("a", class_="internal", href=True):
            target, _, anchor = a["href"].partition("#")
            if target.startswith(("http", "mailto", "../_")) or target.endswith((".ipynb", ".png", ".py")):
                continue
            target_page = (book / target) if target else page
            assert target_page.exists(), f"{page.name}: link to missing page {a['href']}"
            if anchor:
                html = target_page.read_text(encoding="utf-8")
                assert f'id="{anchor}"' in html, f"{page.name}: link to missing anchor {a['href']}"
