"""The Suggest tab's callback and logic, called as the app calls them (no browser): the
suggestion opens as the current scenario (undoable), its steps are listed with what they
cost and gained, and every wrong input is one message with nothing changed."""

from __future__ import annotations

import re

import pytest
from dash import no_update

import dashboard as dc
from dashboard.domain.scenario import CriticalMark
from dashboard.suggest import Step, suggest
from dashboard.ui import state
from dashboard.ui.suggest import callbacks, logic

BUDGET_EUR = 60_000.0


def cells(result) -> list[list[str]]:
    """The rows of the steps table the callback drew (its text, cell by cell)."""
    table = result.children[1]
    return [[td.children for td in tr.children] for tr in table.children[1].children]


def euros(text: str) -> float:
    return float(re.sub(r"[^0-9.\-+]", "", text))


@pytest.fixture(scope="module")
def reference(district, bound_cache):
    """The service called directly: what the tab must show and open."""
    return suggest(district, BUDGET_EUR, "self_sufficiency", start=dc.Scenario(
        name="Untitled scenario"))


def test_suggestion_opens_as_the_current_scenario_and_undo_goes_back(deps, session, district,
                                                                     reference):
    progress: list = []
    got = callbacks.run_suggest(deps, progress.append, 1, session, BUDGET_EUR,
                                "self_sufficiency", [])
    new = state.parse_session(got["session"])
    opened = state.get_scenario(new["scenario"])
    assert opened.pv == reference.scenario.pv and opened.batteries == reference.scenario.batteries
    assert new["undo"] == [session["scenario"]]           # Undo goes back to the start
    assert state.undo(new)["scenario"] == session["scenario"]
    # the KPI improved: evaluated afresh, not taken from the optimizer
    before = dc.evaluate(district, dc.Scenario(), use_cache=False).summary["self_sufficiency"]
    after = dc.evaluate(district, opened, use_cache=False).summary["self_sufficiency"]
    assert after > before
    assert after == pytest.approx(reference.objective_end, rel=1e-6)
    assert "Suggested scenario opened" in str(got["message"].children)
    assert any("%" in p[0] for p in progress) and progress[-1] == ("",)


def test_the_steps_say_what_each_cost_and_gained(deps, session, district, reference):
    got = callbacks.run_suggest(deps, lambda p: None, 1, session, BUDGET_EUR,
                                "self_sufficiency", [])
    rows = cells(got["result"])
    assert len(rows) == len(reference.steps) > 0
    # the costs add up to what was spent; the capex of the opened scenario is that sum
    costs = [euros(r[2]) for r in rows]
    assert sum(costs) == pytest.approx(reference.spent_eur, abs=len(rows))
    opened = state.get_scenario(state.parse_session(got["session"])["scenario"])
    capex = dc.evaluate(district, opened, use_cache=False).summary["capex_eur"]
    assert capex == pytest.approx(sum(costs), abs=len(rows))
    # gains (percentage points) add up to the KPI change; gain per 1,000 EUR = gain / cost
    gains = [float(r[3].removesuffix(" pp")) for r in rows]
    base = dc.evaluate(district, dc.Scenario(), use_cache=False).summary["self_sufficiency"]
    end = dc.evaluate(district, opened, use_cache=False).summary["self_sufficiency"]
    assert sum(gains) == pytest.approx(100 * (end - base), abs=0.005 * len(rows) + 1e-3)
    for r, s in zip(rows, reference.steps, strict=True):
        assert s.building_id in r[1]
        assert float(r[4].removesuffix(" pp")) == pytest.approx(
            1e5 * s.gain / s.cost_eur, abs=1e-3)
    summary = got["result"].children[0].children
    assert f"{100 * base:.1f} % → {100 * end:.1f} %" in summary


@pytest.mark.parametrize(("budget", "objective", "words"), [
    (-5, "self_sufficiency", "more than 0"), ("abc", "npv", "number of euros"),
    (None, "npv", "number of euros"), (1e12, "npv", "at most"),
    (1000, "cheapest", "Choose an objective")])
def test_bad_input_is_one_message_and_nothing_changes(deps, session, budget, objective, words):
    got = callbacks.run_suggest(deps, lambda p: None, 1, session, budget, objective, [])
    assert words in got["status"]
    assert got["session"] is no_update


def test_critical_only_needs_marks_then_places_only_on_them(deps, district, bound_cache):
    blank = dict(state.new_session(district, dc.Scenario(name="Untitled scenario")))
    got = callbacks.run_suggest(deps, lambda p: None, 1, blank, BUDGET_EUR, "resilience",
                                ["critical"])
    assert "no critical buildings marked" in got["status"] and got["session"] is no_update
    b = district.buildings          # small demand, roofs for PV: they can ride out 24 h
    two = tuple(b[b["pv_potential_kwp"] >= 10].sort_values("annual_demand_kwh")["building_id"]
                .astype(str).iloc[:2])
    marked = dc.Scenario(name="marked", critical=tuple(CriticalMark(b, True) for b in two))
    got = callbacks.run_suggest(deps, lambda p: None, 1,
                                dict(state.new_session(district, marked)), BUDGET_EUR,
                                "resilience", ["critical"])
    opened = state.get_scenario(state.parse_session(got["session"])["scenario"])
    placed = {p.building_id for p in opened.pv} | {b.building_id for b in opened.batteries}
    assert placed and placed <= set(two)
    assert opened.critical == marked.critical          # the planner's marks are kept


def test_a_budget_too_small_for_any_step_changes_nothing(deps, session):
    got = callbacks.run_suggest(deps, lambda p: None, 1, session, 50, "self_sufficiency", [])
    assert "Nothing within the budget" in got["status"] and got["session"] is no_update


def test_a_failed_job_says_it_failed():
    got = callbacks.suggest_failed(RuntimeError(
        "An error occurred inside a background callback: stopped after 600 s, the time limit"
        " of a job\nTraceback ..."))
    assert got["status"].startswith("The suggestion failed: stopped after 600 s")
    assert "Traceback" not in got["status"] and got["session"] is no_update


def test_npv_gains_are_in_euros():
    step = Step("B1", "battery", 0.0, 10.0, 8_000.0, 2_000.0, 2_000.0)
    assert logic.gain_text("npv", step.gain) == "+2,000 €"
    assert logic.per_keur_text("npv", step) == "+250 €"          # 2,000 / 8 kEUR
    assert logic.per_keur_text("self_sufficiency", Step("B1", "pv", 0, 5, 4_000.0, 0.002,
                                                        0.1)) == "+0.050 pp"
    assert logic.what_text(step) == "Battery on B1: 0.0 → 10.0 kWh"


def test_a_suggestion_overtaken_by_an_edit_is_not_applied_and_undo_clears_the_steps(
        deps, session, district):
    """The job pushed its scenario onto the one it started from; the planner edited past it
    meanwhile: the map keeps the edit (the result is refused with a word), and steps shown
    for a scenario no longer on screen are cleared."""
    from dashboard.domain.scenario import PvPlacement
    from dashboard.ui import ids
    from dashboard.ui.planning import callbacks as planning

    got = callbacks.run_suggest(deps, lambda p: None, 1, session, BUDGET_EUR,
                                "self_sufficiency", [])
    bid = str(district.buildings["building_id"].iloc[0])
    edited = state.push(session, dc.Scenario(name="Untitled scenario").with_pv(
        PvPlacement(bid, 2.0)))
    view = ("self_sufficiency", ["pv"], "plain", "plan")
    stale = planning.render(deps, got["session"], *view, edited, None, "power-flow",
                            trigger=ids.SESSION_BG)
    assert stale["session"] is no_update and "not applied" in str(stale["message"].children)
    fresh = planning.render(deps, got["session"], *view, session, None, "power-flow",
                            trigger=ids.SESSION_BG)
    assert fresh["session"]["scenario"] == got["session"]["scenario"]
    # the steps stay with their scenario and go when another one is on screen
    kept = callbacks.forget_steps(got["session"], got["shown_for"])
    assert all(v is no_update for v in kept.values())
    gone = callbacks.forget_steps(state.undo(got["session"]), got["shown_for"])
    assert gone["result"] is None and "changed" in gone["status"]
