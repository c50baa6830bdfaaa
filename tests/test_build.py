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
    # a chapter may go on on a page of its own (7.12): its numbers continue the chapter's
    toc = [f.split("/")[-1] + ".html" for f in re.findall(r"file: (book/ch0[1-8]_\w+)", (ROOT / "_toc.yml").read_text())]
    chapters = [n for n in toc if n in pages]
    assert len({n[:4] for n in chapters}) == 8, chapters
    seen = {}                                   # chapter -> figures and equations numbered so far
    for name in chapters:
        n = int(name[2:4])
        figs = [v for (page, _), v in numbers.items() if page == name and v.startswith("Fig.")]
        assert figs, f"{name}: no numbered figure caption"
        first_fig, first_eq = seen.get(n, (1, 1))
        assert figs == [f"Fig. {n}.{k}" for k in range(first_fig, first_fig + len(figs))], f"{name}: {figs}"
        eqs = [v for (page, _), v in numbers.items() if page == name and v.startswith("(")]
        assert eqs == [f"({n}.{k})" for k in range(first_eq, first_eq + len(eqs))], f"{name}: {eqs}"
        seen[n] = (first_fig + len(figs), first_eq + len(eqs))

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


# --- what every page serves -----------------------------------------------------

def _html_files(html_dir):
    return sorted(html_dir.rglob("*.html"))


def test_every_image_has_a_text_alternative(built_book):
    """No <img> reaches a screen reader as a hashed file name or nothing (alt from the
    figure caption, _ext/alt_text.py; players set their own)."""
    from bs4 import BeautifulSoup

    problems, n = [], 0
    for path in _html_files(built_book):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for img in soup.find_all("img"):
            n += 1
            alt = (img.get("alt") or "").strip()
            src = img.get("src") or img.get("id") or "?"
            if len(alt) < 8 or re.search(r"\.(png|svg|jpe?g|gif|webp)$", alt, re.I) or "_images/" in alt:
                problems.append(f"{path.relative_to(built_book)}: <img {src[:60]}> alt={alt!r}")
    assert n >= 30, f"only {n} images found: the test would prove little"
    assert not problems, "images without a meaningful alt text:\n" + "\n".join(problems)


_TEXT_SUFFIXES = {".html", ".txt", ".md", ".js", ".json", ".css", ".py", ".yml", ".svg", ".ipynb"}


def _texts_of(path, data=None):
    """[(name, text)] of a built file: a zip (the student bundle) is opened member by member;
    a notebook gives the text of its cells; binary files give nothing."""
    import io
    import json
    import zipfile

    name = path if isinstance(path, str) else path.name
    data = data if data is not None else Path(path).read_bytes()
    suffix = Path(name).suffix.lower()
    if suffix == ".zip":
        out = []
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                if member.endswith("/") or member.endswith(".whl"):
                    continue  # the package's wheel: library code, not exercise solutions
                out += [(f"{name}:{n}", t) for n, t in _texts_of(member, zf.read(member))]
        return out
    if suffix not in _TEXT_SUFFIXES:
        return []
    text = data.decode("utf-8", errors="replace")
    if suffix == ".ipynb":
        cells = json.loads(text).get("cells", [])
        text = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                         for c in cells)
    elif suffix == ".html":
        from bs4 import BeautifulSoup

        text = BeautifulSoup(text, "html.parser").get_text()  # keeps highlighted code lines whole
    return [(name, text)]


def test_student_edition_serves_no_solution_in_any_file(built_book, built_student_book):
    """Every file of the student build (pages, downloadable sources, the search index, the
    student bundle zip) is free of solution blocks and of the solutions' text, and no page
    launches a notebook (Binder/Colab would open the solved chapter)."""
    import json

    from bs4 import BeautifulSoup

    # a solution line is secret unless students see it anyway: in a page of the full edition
    # outside its solution blocks, in an exercise notebook (signatures, stubs, checks), or in a
    # chapter's code cells (solutions live only in markdown {solution} blocks)
    inside, seen = set(), []
    for path in _html_files(built_book):
        html = path.read_text(encoding="utf-8")
        inside |= set(_page_texts(html)[1])
        soup = BeautifulSoup(html, "html.parser")
        for div in soup.find_all("div", class_="solution"):
            div.decompose()
        seen.append(soup.get_text())  # no separator: a highlighted code line stays one line
    given = list((ROOT / "exercises").glob("*.ipynb"))
    for nb_path in [*given, *(ROOT / "book").glob("*.ipynb")]:
        for cell in json.loads(nb_path.read_text(encoding="utf-8"))["cells"]:
            if nb_path in given or cell["cell_type"] == "code":
                seen.append(cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"]))
    seen = re.sub(r"\s+", " ", "\n".join(seen))
    secret = {s for s in inside if s not in seen}
    assert len(secret) >= 50, f"only {len(secret)} solution lines found: the test would prove little"
    files = [p for p in built_student_book.rglob("*") if p.is_file()]
    sources = [p for p in files if "_sources" in p.parts]
    assert any(p.suffix == ".ipynb" for p in sources), "the student build has no downloadable sources"
    assert any(p.suffix == ".zip" for p in files), "the student build has no bundle to download"
    leaks, scanned = [], 0
    for path in files:
        for name, text in _texts_of(path):
            scanned += 1
            rel = f"{path.relative_to(built_student_book)}" + (name[len(path.name):] if name != path.name else "")
            if "{solution}" in text:
                leaks.append(f"{rel}: a {{solution}} block")
            flat = re.sub(r"\s+", " ", text)
            found = [s for s in secret if s in flat]
            if found:
                leaks.append(f"{rel}: {len(found)} solution lines, e.g. {found[0]!r}")
            if path.suffix == ".html" and re.search(r"mybinder\.org|colab\.research\.google\.com", path.read_text(encoding="utf-8")):
                leaks.append(f"{rel}: a launch button")
    assert scanned > 50
    assert not leaks, "the student edition leaks:\n" + "\n".join(sorted(set(leaks))[:40])


def test_the_full_edition_serves_the_solutions_it_should(built_book):
    """The counterpart of the leak test: the teacher's sources do hold solution blocks (so the
    student test is scanning the kind of file that would leak)."""
    sources = list((built_book / "_sources").rglob("ch0*.ipynb"))
    assert sources and any("{solution}" in t for p in sources for _, t in _texts_of(p))


def test_downloads_page_links_every_exercise_notebook_and_the_bundle(built_book):
    import zipfile
    from bs4 import BeautifulSoup

    page = built_book / "book" / "downloads.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    hrefs = [a["href"] for a in soup.find_all("a", href=True)]
    targets = {Path(h).name: (page.parent / h).resolve() for h in hrefs
               if h.endswith((".ipynb", ".zip")) and "_downloads" in h}
    expected = sorted(p.name for p in (ROOT / "exercises").glob("ch*.ipynb"))
    assert expected and all(name in targets for name in expected), (expected, sorted(targets))
    for name, target in targets.items():
        assert target.is_file(), f"the download link {name} leads to no file"
        if name in expected:
            assert target.read_bytes() == (ROOT / "exercises" / name).read_bytes(), f"{name} is stale"
    bundle = targets["lstm-course-exercises.zip"]
    members = zipfile.ZipFile(bundle).namelist()
    for name in expected + ["requirements.txt", "README.md"]:
        assert f"lstm-course-exercises/{name}" in members, f"{name} missing from the bundle"
    assert any(m.endswith(".whl") for m in members), "the bundle has no wheel of the package"
    # each chapter links its own exercise notebook
    for name in expected:
        chapter = (built_book / "book" / name.replace(".ipynb", ".html")).read_text(encoding="utf-8")
        assert re.search(rf'href="[^"]*_downloads/[^"]*/{re.escape(name)}"', chapter), \
            f"{name.replace('.ipynb', '.html')} has no download link to its exercise notebook"


def test_no_launch_or_repository_button_while_the_url_is_a_placeholder(built_book):
    import build_book

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    pages = [p.read_text(encoding="utf-8") for p in (built_book / "book").glob("ch*.html")]
    has_launch = any(re.search(r"mybinder\.org|colab\.research\.google\.com", h) for h in pages)
    has_repo = any(f'href="{url}"' in h for h in pages)
    if build_book.is_placeholder(url):
        assert not has_launch and not has_repo, "buttons that lead to the placeholder repository"
    else:
        assert has_launch and has_repo, "a real repository URL, but no launch or repository buttons"
