"""The Suggest tab in the browser (the real app, Debian's Chromium): a planner states a budget
and a goal, gets an explained scenario whose KPI improved, can undo and redo it, edits it and
saves it. Screenshots at 1280×720 and 1920×1080 (``build/screenshots/suggest-result-*.png``)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import kpi_text, open_app, wait_kpi_change
from tests.e2e.test_scenarios import pick, save_as
from tests.e2e.test_screen import OVERFLOW_JS, SHOTS, in_view

pytestmark = pytest.mark.e2e


def percent(text: str) -> float:
    return float(text.split("%")[0].replace(",", "").strip())


def test_budget_and_goal_give_an_editable_scenario(page, app_url):
    open_app(page, app_url)
    before = kpi_text(page, "self_sufficiency")
    page.click("#tab-suggest")
    page.fill("#suggest-budget", "150000")
    pick(page, "#suggest-objective", "Self-sufficiency")
    page.click("#suggest-run")
    after = wait_kpi_change(page, "self_sufficiency", before, timeout_ms=180_000)
    assert percent(after) > percent(before), (before, after)
    # the explanation: one row per step with its cost, gain and gain per euro
    page.wait_for_selector(".steps-table tbody tr", timeout=10_000)
    head = page.inner_text(".steps-table thead")
    assert "Cost" in head and "Gain per 1,000 €" in head, head
    rows = page.eval_on_selector_all(".steps-table tbody tr", "rs => rs.map(r => r.innerText)")
    assert rows and all("€" in r and "pp" in r for r in rows), rows
    assert "Self-sufficiency:" in page.inner_text(".suggest-result .info")
    assert "Suggested scenario opened" in page.inner_text(".toast")
    name = page.input_value("#scenario-name")
    assert name.startswith("Suggested: self_sufficiency"), name
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 720), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(600)
        for sel in ("#suggest-run", "#suggest-budget", "#undo", "#tab-place", "#tab-export"):
            assert in_view(page, sel), f"{sel} not in view at {width}x{height}"
        assert page.evaluate(OVERFLOW_JS) == [], f"overflow at {width}x{height}"
        page.screenshot(path=str(SHOTS / f"suggest-result-{width}x{height}.png"))
    page.set_viewport_size({"width": 1500, "height": 900})
    # an ordinary scenario: Undo goes back to the one before, Redo returns
    page.click("#undo")
    wait_kpi_change(page, "self_sufficiency", after)
    assert kpi_text(page, "self_sufficiency") == before
    page.click("#redo")
    wait_kpi_change(page, "self_sufficiency", before)
    assert kpi_text(page, "self_sufficiency") == after
    # edit it: a battery in a building the suggestion left alone, then save it
    status = page.inner_text("#scenario-status")
    page.evaluate("() => window.dash_clientside.set_props('selection', "
                  "{data: {buildings: ['B002'], transformer: null}})")
    page.click("#tab-place")
    page.wait_for_selector("#bat-apply", state="visible", timeout=20_000)
    page.fill("#bat-kwh", "40")
    page.fill("#bat-kw", "20")
    page.click("#bat-apply")
    page.wait_for_function(f"() => document.querySelector('#scenario-status').innerText "
                           f"!== {status!r}", timeout=30_000)
    assert "batter" in page.inner_text("#scenario-status")
    save_as(page, "Suggested, with a battery")
    saved = page.eval_on_selector_all(".saved-name input", "els => els.map(e => e.value)")
    assert "Suggested, with a battery" in saved
