"""The service in a real browser (headless Chromium): logging in, a case's charts drawn by the
scripts the service serves itself, a member's own page, and what each role may open.
Screenshots of the main pages are kept under ``build/test-artefacts``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from browser.harness import CHROMIUM, CHROMIUM_FLAGS, screenshot_path, serving
from test_service_support import (
    DEMO,
    HOSTILE,
    HOSTILE_MEMBER_NAME,
    NASDAQ,
    USERS,
    make_service,
    save_history,
)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, expect, sync_playwright


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser")
    app = make_service(root)
    save_history(app, root)
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS), headless=True
        )
        yield launched
        launched.close()


def log_in(browser: Browser, base_url: str, name: str) -> Page:
    """A new browser context (its own cookies) logged in as ``name`` through the form."""
    page = browser.new_context(base_url=base_url).new_page()
    page.goto("/")
    assert page.url.endswith("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", USERS[name][2])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return page


def test_risk_sees_the_waterfall_drawn_offline(browser: Browser, base_url: str) -> None:
    page = log_in(browser, base_url, "risk")
    page.screenshot(path=screenshot_path("cases"), full_page=True)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base_url) else None)
    page.click(f"a[href='/cases/{NASDAQ}']")
    # Every chart placeholder becomes an SVG drawn by the served Vega scripts.
    expect(page.locator(".chart-embed svg").first).to_be_visible(timeout=20_000)
    placeholders = page.locator(".chart-embed").count()
    expect(page.locator(".chart-embed svg")).to_have_count(placeholders, timeout=20_000)
    assert placeholders >= 2
    page.screenshot(path=screenshot_path("case-waterfall"), full_page=True)
    for path, name in (
        (f"/cases/{DEMO}", "end-of-day"),
        (f"/cases/{DEMO}/simulation", "simulation"),
    ):
        page.goto(path)
        count = page.locator(".chart-embed").count()
        expect(page.locator(".chart-embed svg")).to_have_count(count, timeout=30_000)
        page.screenshot(path=screenshot_path(name), full_page=True)
    assert outside == []


def test_a_member_sees_its_liability_and_no_other(browser: Browser, base_url: str) -> None:
    page = log_in(browser, base_url, "cm01")
    page.click(f"a[href='/cases/{NASDAQ}/members/CM01']")
    expect(page.locator("h1")).to_have_text("CM01")
    expect(page.locator(".chart-embed svg").first).to_be_visible(timeout=20_000)
    page.screenshot(path=screenshot_path("member-liability"), full_page=True)
    refused = page.goto(f"/cases/{NASDAQ}/members/CM02")
    assert refused is not None
    assert refused.status == 403
    refused = page.goto(f"/cases/{NASDAQ}")
    assert refused is not None
    assert refused.status == 403
    assert Path(screenshot_path("member-liability")).stat().st_size > 0


def test_html_in_names_shows_as_text_and_never_runs(browser: Browser, base_url: str) -> None:
    page = log_in(browser, base_url, "cm01")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.goto(f"/cases/{HOSTILE}/members/CM01")
    expect(page.locator("h1")).to_have_text(f"CM01 ({HOSTILE_MEMBER_NAME})")
    expect(page.locator(".chart-embed svg").first).to_be_visible(timeout=20_000)
    assert page.locator("img").count() == 0
    assert dialogs == []


def test_saved_days_and_a_members_history(browser: Browser, base_url: str) -> None:
    risk = log_in(browser, base_url, "risk")
    risk.click("nav a[href='/saved']")
    risk.click("table.saved a >> nth=0")  # the newest: the second day
    expect(risk.locator("body")).to_contain_text("Change against the previous stored day")
    expect(risk.locator(".chart-embed svg").first).to_be_visible(timeout=20_000)
    risk.screenshot(path=screenshot_path("saved-end-of-day"), full_page=True)
    member = log_in(browser, base_url, "cm01")
    member.click("nav a:has-text('My history')")
    expect(member.locator(".chart-embed svg")).to_have_count(2, timeout=20_000)
    expect(member.locator("table.eods tbody tr")).to_have_count(2)
    member.screenshot(path=screenshot_path("member-history"), full_page=True)
