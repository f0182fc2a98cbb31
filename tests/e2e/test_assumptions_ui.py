"""The Assumptions tab in a real browser: an override changes a KPI, an impossible value is
refused with the scenario kept, the panel fits at a laptop's and a desktop's size."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import open_app
from tests.e2e.test_screen import OVERFLOW_JS, SHOTS, in_view, place_pv

pytestmark = pytest.mark.e2e

PRICE_INPUT = "input[name='econ.import_price_eur_per_kwh']"
RATE_INPUT = "input[name='econ.discount_rate']"


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)],
                         ids=["1280x720", "1920x1080"])
def test_an_override_changes_the_payback(browser, app_url, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        open_app(page, app_url)
        place_pv(page)
        page.wait_for_function("() => document.querySelector('#kpi-payback_years')"
                               ".innerText.endsWith(' a')", timeout=30_000)
        before = page.inner_text("#kpi-payback_years")
        page.click("#tab-assumptions")
        page.wait_for_selector(PRICE_INPUT, timeout=20_000)
        assert "0.25" in page.inner_text(".assume-row[data-key='econ.import_price_eur_per_kwh']")
        # a dearer tariff: every kWh of PV used saves more, the payback shortens
        page.fill(PRICE_INPUT, "0.5")
        page.press(PRICE_INPUT, "Enter")
        page.wait_for_function(f"() => document.querySelector('#kpi-payback_years').innerText "
                               f"!== {before!r}", timeout=30_000)
        after = page.inner_text("#kpi-payback_years")
        assert float(after.split()[0]) < float(before.split()[0])
        page.wait_for_selector(".assume-row.overridden", timeout=10_000)
        assert "1 override" in page.inner_text("#assume-status")
        # implausible: accepted with a warning in its row
        page.fill(RATE_INPUT, "0.2")
        page.press(RATE_INPUT, "Enter")
        page.wait_for_selector(".assume-warning", timeout=20_000)
        assert "usual" in page.inner_text(".assume-warning")
        # impossible: one message, the scenario kept
        page.fill(RATE_INPUT, "7")
        page.press(RATE_INPUT, "Enter")
        page.wait_for_function("() => document.querySelector('#message') && document"
                               ".querySelector('#message').innerText.includes('impossible')",
                               timeout=20_000)
        assert page.inner_text("#kpi-payback_years") == after
        assert page.evaluate(OVERFLOW_JS) == [], f"overflow at {width}x{height}"
        assert in_view(page, "#assume-reset-all") and in_view(page, PRICE_INPUT)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"assumptions-{width}x{height}.png"))
        # reset all: the district's values and the first payback again
        page.click("#assume-reset-all")
        page.wait_for_function(f"() => document.querySelector('#kpi-payback_years').innerText "
                               f"=== {before!r}", timeout=30_000)
    finally:
        context.close()
    assert errors == []
