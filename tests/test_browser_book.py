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
