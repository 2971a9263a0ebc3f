"""A whole fire drill in headless Chromium: the risk team starts it, three member users in
their own browser contexts bid (one after the deadline, refused), the risk team closes the
auction, and every user sees the outcome appear without reloading, each only what its role
allows. Screenshots of each step are kept under ``build/test-artefacts``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from browser.harness import CHROMIUM, CHROMIUM_FLAGS, screenshot_path, serving
from test_service_support import DRILL, USERS, Clock, make_service

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

if CHROMIUM.exists():
    from playwright.sync_api import Browser, Page, expect, sync_playwright

LOT = "nordic-german-power-spread"
LAST_DEADLINE_HOURS = 8
OUTCOME_WAIT_MS = 15_000  # the pages poll once a second


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[str]:
    app = make_service(tmp_path_factory.mktemp("drill"), clock=clock)
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
    page = browser.new_context(base_url=base_url).new_page()
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", USERS[name][2])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return page


def bid(page: Page, price: str) -> None:
    page.select_option("select[name=lot]", LOT)
    page.fill("input[name=price]", price)
    page.click("#bid-form button[type=submit]")


def test_a_whole_fire_drill(browser: Browser, base_url: str, clock: Clock) -> None:
    risk = log_in(browser, base_url, "risk")
    risk.goto("/drills")
    risk.select_option("select[name=file]", DRILL)
    risk.click("form.start button[type=submit]")
    risk.wait_for_url(re.compile(r".*/drills/\d+$"))
    drill_path = risk.url.removeprefix(base_url)
    expect(risk.locator("#close-auction")).to_be_visible()
    risk.screenshot(path=screenshot_path("drill-started"), full_page=True)

    members = {name: log_in(browser, base_url, name) for name in ("cm01", "cm02", "cm03")}
    for name, page in members.items():
        page.goto("/drills")
        page.click(f"a[href='{drill_path}']")
        expect(page.locator("#live")).to_contain_text(LOT)
        expect(page.locator("#live")).to_contain_text(USERS[name][1] or "")

    bid(members["cm01"], "-1500000.00")
    bid(members["cm02"], "-2500000.00")
    for name, price in (("cm01", "-1500000.00"), ("cm02", "-2500000.00")):
        expect(members[name].locator("table.bids")).to_contain_text(price)
    members["cm01"].screenshot(path=screenshot_path("drill-member-bid"), full_page=True)
    # Sealed: neither sees the other's bid; the risk team sees both.
    assert "2500000" not in members["cm01"].content()
    assert "1500000" not in members["cm02"].content()
    risk.reload()
    expect(risk.locator("table.bids")).to_contain_text("CM01")
    expect(risk.locator("table.bids")).to_contain_text("CM02")

    clock.advance(hours=LAST_DEADLINE_HOURS, minutes=1)
    bid(members["cm03"], "-900000.00")
    expect(members["cm03"].locator("#message")).to_contain_text("after the deadline")
    members["cm03"].screenshot(path=screenshot_path("drill-late-bid-refused"), full_page=True)

    risk.click("#close-auction")
    expect(risk.locator("#outcome")).to_be_visible()
    expect(risk.locator("table.statements")).to_contain_text("CM03")
    risk.screenshot(path=screenshot_path("drill-outcome-risk"), full_page=True)

    for name, page in members.items():
        member = USERS[name][1]
        # The page was not reloaded: it polled and redrew its live part.
        expect(page.locator("#outcome")).to_be_visible(timeout=OUTCOME_WAIT_MS)
        expect(page.locator("#outcome")).to_contain_text("Your statement")
        expect(page.locator("#outcome .chart-embed svg").first).to_be_visible(
            timeout=OUTCOME_WAIT_MS
        )
        expect(page.locator("#bid-form")).to_have_count(0)
        shown = page.locator("#live").inner_text()
        others = {USERS[n][1] for n in members if n != name}
        assert not [m for m in others if m and m in shown], (name, shown)
        assert member is not None
        assert member in shown
        page.screenshot(path=screenshot_path(f"drill-outcome-{name}"), full_page=True)

    tiers = {
        name: page.locator("#outcome table.pairs").last.inner_text()
        for name, page in members.items()
    }
    # The price is what the bidder pays: -1.5m beats -2.5m.
    assert "bid at or above the winning price" in tiers["cm01"]
    assert "bid below the winning price" in tiers["cm02"]
    assert "no bid" in tiers["cm03"]
