"""UI benchmark in headless Chromium: first render and placement round trip.

    python benchmarks/bench_ui.py [--sizes 0 10000 50000] [--repeat 5] [--write]

For each district (0 = the default district, otherwise ``app.py --synthetic N``) it starts the
real app on the plain base map and measures with Playwright and Debian's Chromium:

- first render: navigation start → KPI cards shown, and → MapLibre's first "idle" with every
  GeoJSON source loaded (buildings, feeders and markers drawn), timed inside the page; the
  number of footprints drawn at the first zoom is reported beside it;
- placement round trip: click "Add / update PV" on a selected building → the KPI cards and
  status line show the new scenario (a MutationObserver timestamps the change in the page),
  median of ``--repeat`` placements on different buildings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

import dashboard as dc  # noqa: E402
from benchmarks.bench_engine import write_results  # noqa: E402
from tests.e2e.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    RENDERED_JS,
    click_map,
    start_app,
    wait_framed,
    zoom_to,
)

# Installed before the page loads: timestamps (ms since navigation start) of the first MapLibre
# "idle" with every GeoJSON source loaded, i.e. when the buildings are on screen.
IDLE_MARK_JS = """
(() => {
  const iv = setInterval(() => {
    const gd = document.querySelector('#map .js-plotly-plot');
    const m = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot &&
              gd._fullLayout.map._subplot.map;
    if (!m) return;
    clearInterval(iv);
    m.on('idle', () => {
      if (window.__drawn) return;
      const ids = Object.keys(m.getStyle().sources);
      if (ids.length > 8 && ids.every(id => m.isSourceLoaded(id))) {
        window.__drawn = performance.now();
      }
    });
  }, 10);
})();
"""

ROUND_TRIP_JS = """async () => {
    // the status line ("N PV · ...") and the KPI cards come from the same callback output
    const el = document.querySelector('#scenario-status');
    const before = el.innerText;
    const done = new Promise((resolve, reject) => {
        const obs = new MutationObserver(() => {
            if (el.innerText !== before) { obs.disconnect(); resolve(performance.now()); }
        });
        obs.observe(el, {childList: true, subtree: true, characterData: true});
        setTimeout(() => reject(new Error('no update within 30 s')), 30000);
    });
    const t0 = performance.now();
    document.querySelector('#pv-apply').click();
    const t1 = await done;
    return t1 - t0;
}"""


def measure(size: int, repeat: int) -> dict[str, float | int | str]:
    district = dc.load_district() if size == 0 else dc.synthetic_city(size)
    n = district.n_buildings
    reps = district.buildings.geometry.representative_point()
    # buildings with a large roof, spread over the district, so each click adds new PV
    order = district.buildings["roof_area_m2"].to_numpy().argsort()[::-1]
    picks = [int(i) for i in order[: 40 * repeat: 40]][:repeat]
    args = [] if size == 0 else ["--synthetic", str(size)]
    with tempfile.TemporaryDirectory() as tmp:
        t_start = time.time()
        proc, url = start_app(Path(tmp), *args, timeout_s=600)
        startup = time.time() - t_start
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1500, "height": 900})
                page.add_init_script(IDLE_MARK_JS)
                page.goto(url)
                page.wait_for_selector("#kpi-self_sufficiency", timeout=120_000)
                t_kpi = page.evaluate("performance.now()") / 1000.0
                page.wait_for_function("() => window.__drawn !== undefined", timeout=180_000)
                t_map = page.evaluate("window.__drawn") / 1000.0
                page.wait_for_function(f"() => ({RENDERED_JS})() > 0", timeout=60_000)
                wait_framed(page)      # the view is framed for the window before clicking
                # At city scale the smallest footprints (sheds, garages) are below a pixel and
                # MapLibre's tiler drops them; report how many are on screen.
                drawn = page.evaluate(RENDERED_JS)
                trips = []
                for i in picks:
                    if n > 1000:   # a planner zooms in on a block before clicking a roof
                        zoom_to(page, reps.x.iloc[i], reps.y.iloc[i], 17.0)
                    click_map(page, reps.x.iloc[i], reps.y.iloc[i])
                    bid = district.buildings["building_id"].iloc[i]
                    page.wait_for_function(
                        f"() => document.querySelector('#panel-title').innerText === "
                        f"'Building {bid}'", timeout=30_000)
                    trips.append(page.evaluate(ROUND_TRIP_JS))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {"buildings": n, "server_start_s": startup, "first_kpi_s": t_kpi,
            "map_rendered_s": t_map, "drawn": drawn,
            "round_trip_ms_median": statistics.median(trips),
            "round_trip_ms_max": max(trips), "trips": len(trips)}


def table(rows: list[dict]) -> str:
    head = ("| buildings | server start s | KPIs shown s | map rendered s | footprints drawn at "
            "first zoom | placement round trip ms (median / max of n) |\n"
            "|---:|---:|---:|---:|---:|---:|\n")
    return head + "\n".join(
        f"| {r['buildings']:,}{' (default)' if r['buildings'] == 144 else ''} | "
        f"{r['server_start_s']:.1f} | {r['first_kpi_s']:.2f} | {r['map_rendered_s']:.2f} | "
        f"{r['drawn']:,} | "
        f"{r['round_trip_ms_median']:.0f} / {r['round_trip_ms_max']:.0f} of {r['trips']} |"
        for r in rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        rows.append(measure(size, args.repeat))
        print(rows[-1], flush=True)
    text = table(rows)
    print(text)
    if args.write:
        write_results("ui", text, heading="## UI (`bench_ui.py`)")


if __name__ == "__main__":
    main()
