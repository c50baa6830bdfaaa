"""The built book in a real browser (headless Chromium driven by Playwright).

Every page loads with no console error, no failed request and no request leaving
127.0.0.1; maths is typeset by the local MathJax; a stepping animation advances
when its "Next frame" button is clicked; the student edition has no solutions.
"""
import re

import pytest

from browser import ARTIFACTS, browser_page, require_chromium, static_server, unexplained

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _pages(html_dir):
    return sorted(p.relative_to(html_dir).as_posix() for p in (html_dir / "book").glob("*.html"))


def test_every_page_loads_cleanly_and_typesets_math(built_book):
    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    pages = _pages(built_book)
    assert pages, "no pages built"
    problems = {}
    math_pages = 0
    with static_server(built_book) as base, browser_page() as (page, log):
        for rel in pages:
            for k in log:
                log[k].clear()
            page.goto(f"{base}/{rel}", wait_until="load")
            html = (built_book / rel).read_text(encoding="utf-8")
            has_math = bool(re.search(r'class="[^"]*\bmath\b', html))
            if has_math:
                page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
                math_pages += 1
                # typeset maths replaces the \[ ... \] source with mjx-container elements;
                # no visible maths element may be left untypeset
                page.wait_for_function(
                    "() => [...document.querySelectorAll('span.math, div.math')]"
                    ".filter(e => e.offsetParent !== null)"
                    ".every(e => e.querySelector('mjx-container'))", timeout=20_000)
            page.wait_for_timeout(200)
            bad = {k: v for k, v in {
                "console errors": unexplained(log["console"]),
                "page errors": unexplained(log["pageerror"]),
                "failed requests": log["failed"],
                "external requests": log["external"],
            }.items() if v}
            if bad:
                problems[rel] = bad
        page.goto(f"{base}/book/intro.html", wait_until="load")
        page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "book-intro.png"), full_page=False)
    assert not problems, problems
    assert math_pages >= 1


def test_a_stepping_animation_advances(built_book):
    require_chromium()
    pages = [rel for rel in _pages(built_book)
             if 'title="Next frame"' in (built_book / rel).read_text(encoding="utf-8")]
    assert pages, "no page of the book has a stepping animation (jshtml)"
    with static_server(built_book) as base, browser_page() as (page, log):
        page.goto(f"{base}/{pages[0]}", wait_until="load")
        slider = page.locator("input.anim-slider").first
        slider.scroll_into_view_if_needed()
        before = slider.input_value()
        img = page.locator("img[id^='_anim_img']").first
        src_before = img.get_attribute("src")
        page.locator('button[title="Next frame"]').first.click()
        page.wait_for_timeout(300)
        assert slider.input_value() != before
        assert img.get_attribute("src") != src_before
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "book-animation.png"))
        assert not unexplained(log["console"]) and not log["external"]


def test_the_cell_explorer_recolours_the_text_without_a_kernel(built_book):
    """Chapter 7's explorer (fig-ch07-cell-explorer) works in a plain browser: choosing a
    pattern lists its best cells, and choosing a cell recolours the text."""
    require_chromium()
    page_file = built_book / "book" / "ch07_plays_model.html"
    assert 'id="fig-ch07-cell-explorer"' in page_file.read_text(encoding="utf-8")
    with static_server(built_book) as base, browser_page() as (page, log):
        page.goto(f"{base}/book/ch07_plays_model.html", wait_until="load")
        explorer = page.locator("#fig-ch07-cell-explorer .cell-explorer")
        explorer.scroll_into_view_if_needed()
        colours = "el => [...el.querySelectorAll('span[title]')].map(s => s.style.background).join()"
        before = explorer.evaluate(colours)
        explorer.locator("select").select_option("speaker name")
        buttons = explorer.locator("button")
        assert buttons.count() == 5
        status = explorer.locator("[aria-live]")
        assert "speaker name" in status.inner_text()
        after_pattern = explorer.evaluate(colours)
        assert after_pattern != before
        buttons.nth(1).click()
        assert buttons.nth(1).get_attribute("aria-pressed") == "true"
        assert explorer.evaluate(colours) != after_pattern
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "book-cell-explorer.png"))
        assert not unexplained(log["console"]) and not unexplained(log["pageerror"]) and not log["external"]


# --- on a phone, and for every reader ---------------------------------------------------

PHONE = (390, 844)

# An element is cut off when it reaches past the screen's edge and no box around it that
# scrolls (or clips) sideways fits on the screen. The theme's two off-canvas drawers (the
# chapter list and the page's contents) are hidden off screen until opened; they are left out.
CUT_OFF_JS = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  const root = document.querySelector('main') || document.body;
  for (const el of root.querySelectorAll('*')) {
    if (el.closest('.bd-sidebar-secondary, .bd-sidebar-primary')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || (r.right <= vw + 1 && r.left >= -1)) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    let p = el.parentElement, contained = false;
    for (; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) {
        const pr = p.getBoundingClientRect();
        if (pr.right <= vw + 1 && pr.left >= -1) { contained = true; break; }
      }
    }
    if (contained || out.some(o => o.el.contains(el))) continue;
    out.push({el, what: el.tagName.toLowerCase() + '.' + [...el.classList].join('.') +
              ' (right edge at ' + Math.round(r.right) + ' px): ' + (el.textContent || '').trim().slice(0, 60)});
  }
  return out.map(o => o.what);
}"""


def test_the_menu_opens_on_a_phone_and_shows_the_chapters(built_book):
    require_chromium()
    with static_server(built_book) as base, browser_page(*PHONE) as (page, log):
        page.goto(f"{base}/book/ch04_gates.html", wait_until="load")
        chapter_link = page.locator(".bd-sidebar-primary a[href$='ch06_lstm_bptt.html']").first
        assert not chapter_link.is_visible() or chapter_link.bounding_box()["x"] < 0, \
            "the chapter list is open before the menu button is pressed"
        toggles = [t for t in page.locator("button.primary-toggle, label.primary-toggle").all() if t.is_visible()]
        assert toggles, "no visible menu button at 390 px"
        toggles[0].click()
        page.wait_for_timeout(600)
        box = chapter_link.bounding_box()
        assert chapter_link.is_visible() and box and 0 <= box["x"] < PHONE[0], \
            "the menu button did not open the chapter list"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "book-phone-menu.png"))
        assert not unexplained(log["console"]) and not log["external"]


def test_no_element_of_a_page_is_cut_off_on_a_phone(built_book):
    """At 390 px wide content (equations, tables, code, players) scrolls or scales inside
    its own box; nothing reaches past the screen's edge."""
    require_chromium()
    problems = {}
    with static_server(built_book) as base, browser_page(*PHONE) as (page, log):
        for rel in _pages(built_book):
            page.goto(f"{base}/{rel}", wait_until="load")
            if 'class="math' in (built_book / rel).read_text(encoding="utf-8"):
                page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
                page.wait_for_timeout(500)
            cut = page.evaluate(CUT_OFF_JS)
            if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
                cut.append("the page itself scrolls sideways")
            if cut:
                problems[rel] = cut[:5]
        page.goto(f"{base}/book/ch04_gates.html", wait_until="load")
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "book-phone-ch04.png"))
    assert not problems, problems


def _serious(axe, page, where):
    return [f"{where}: {v['id']} ({v['impact']}, {len(v['nodes'])} elements, e.g. "
            f"{v['nodes'][0]['target']}): {v['help']}"
            for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violations(built_book):
    """axe-core (through axe-playwright-python) on every page on a desktop, and on a phone
    with the chapter menu open: no violation of impact "serious" or "critical".
    (axe takes 1-8 s a page here, so the phone run covers the one state only it has.)"""
    require_chromium()
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright",
                                     reason="axe-playwright-python is not installed")
    axe = axe_module.Axe()
    problems = []
    with static_server(built_book) as base:
        with browser_page() as (page, log):
            for rel in _pages(built_book) + ["search.html"]:
                page.goto(f"{base}/{rel}", wait_until="load")
                page.wait_for_timeout(300)
                problems += _serious(axe, page, rel)
        with browser_page(*PHONE) as (page, log):
            page.goto(f"{base}/book/ch04_gates.html", wait_until="load")
            next(t for t in page.locator("button.primary-toggle").all() if t.is_visible()).click()
            page.wait_for_timeout(600)
            problems += _serious(axe, page, "book/ch04_gates.html at 390 px, menu open")
    assert not problems, "\n".join(problems)


def test_search_ranks_the_chapter_by_its_title_and_shows_no_raw_latex(built_book):
    """_assets/search_scorer.js: a page whose title holds the query comes first; snippets
    have their maths as plain text."""
    require_chromium()
    with static_server(built_book) as base, browser_page() as (page, log):
        results = {}
        for query, first in [("forget gate", "ch04_gates"), ("peephole", "ch05_peepholes"),
                             ("softmax jacobian", None)]:
            page.goto(f"{base}/search.html?q={query.replace(' ', '+')}", wait_until="load")
            page.wait_for_selector("#search-results ul.search li", timeout=30_000)
            page.wait_for_function("() => !document.querySelector('#search-progress')?.textContent", timeout=30_000)
            page.wait_for_timeout(1_500)  # the snippets are fetched page by page
            items = page.locator("#search-results ul.search li")
            results[query] = [items.nth(i).locator("a").first.get_attribute("href") for i in range(items.count())]
            if first:
                assert first in results[query][0], f"search {query!r}: first result {results[query][0]}"
            snippets = " ".join(page.locator("#search-results p.context").all_inner_texts())
            assert snippets, f"search {query!r} shows no snippets"
            raw = re.findall(r"\\\(|\\\)|\\\[|\\[a-z]{2,}\{?", snippets)
            assert not raw, f"search {query!r}: raw LaTeX in the snippets: {raw[:5]}"
        assert not log["pageerror"], log["pageerror"]
