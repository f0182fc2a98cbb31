/* Decentra: building clicks and hover on the MapLibre map that plotly draws.
 *
 * Buildings are map layers (not plotly traces), so plotly does not report clicks on them.
 * This script attaches to the map once it exists, finds the building feature under the
 * pointer (features carry the building id "b" and its figures) and
 *  - on click writes {building, shift} into the dcc.Store "map-click" (dash_clientside.set_props),
 *  - on hover shows a small tooltip with the building's figures and units.
 * Box and lasso selections: plotly reports the drawn region while dragging ("selecting") but
 * sends no event data when no *trace* point falls inside, so the last region drawn is written
 * into the Store "map-region" when the selection ends; the server finds the buildings in it.
 * Transformer markers are plotly traces: their clicks go through the Graph's clickData.
 */
(function () {
  "use strict";

  function mapOf(gd) {
    var layout = gd && gd._fullLayout;
    var sub = layout && layout.map && layout.map._subplot;
    return sub && sub.map ? sub.map : null;
  }

  function buildingAt(map, point) {
    var feats = map.queryRenderedFeatures(point);
    for (var i = 0; i < feats.length; i++) {
      var f = feats[i];
      if (f.layer && f.layer.type === "fill" && f.properties && f.properties.b !== undefined) {
        return f;
      }
    }
    return null;
  }

  function fmt(x, digits) {
    if (x === null || x === undefined || x === "null") return "—";
    var n = Number(x);
    return n.toLocaleString("en-GB", {maximumFractionDigits: digits, minimumFractionDigits: digits});
  }

  function esc(x) {       // ids come from uploaded files: never markup
    return String(x).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function tipHtml(p) {
    var head = document.getElementById("legend-head");
    var label = head ? head.getAttribute("data-label") : "Value";
    var unit = head ? head.getAttribute("data-unit") : "";
    // the coloured indicator first, then the standard figures not already shown
    var rows = [["Demand", fmt(p.d, 1) + " MWh/a"],
                ["PV", fmt(p.p, 1) + " kWp · battery " + fmt(p.s, 1) + " kWh"],
                ["Self-sufficiency", fmt(p.ss, 1) + " %"],
                ["Outage survival", fmt(p.h, 1) + " h (mean)"]];
    var html = "<b>" + esc(p.b) + "</b><br>" + esc(label) + ": " + fmt(p.v, 1) + " " +
      esc(unit);
    for (var i = 0; i < rows.length; i++) {
      if (label.indexOf(rows[i][0]) !== 0) { html += "<br>" + rows[i][0] + " " + rows[i][1]; }
    }
    return html;
  }

  function attach() {
    var gd = document.querySelector("#map .js-plotly-plot");
    var map = mapOf(gd);
    if (!map || map.__decentra) return;
    map.__decentra = true;
    var container = map.getContainer();
    var tip = document.createElement("div");
    tip.className = "map-tip";
    tip.style.display = "none";
    container.appendChild(tip);

    map.on("click", function (e) {
      if (gd._hoverdata && gd._hoverdata.length) return;   // a transformer marker was hit
      var f = buildingAt(map, e.point);
      if (!f || !window.dash_clientside || !window.dash_clientside.set_props) return;
      window.dash_clientside.set_props("map-click", {
        data: {building: String(f.properties.b), shift: !!e.originalEvent.shiftKey,
               t: Date.now()}
      });
    });
    map.on("mousemove", function (e) {
      var f = (gd._hoverdata && gd._hoverdata.length) ? null : buildingAt(map, e.point);
      if (!f) { tip.style.display = "none"; map.getCanvas().style.cursor = ""; return; }
      map.getCanvas().style.cursor = "pointer";
      tip.innerHTML = tipHtml(f.properties);
      tip.style.left = (e.point.x + 14) + "px";
      tip.style.top = (e.point.y + 14) + "px";
      tip.style.display = "block";
    });
    map.on("mouseout", function () { tip.style.display = "none"; });

    var region = null;
    gd.on("plotly_selecting", function (ev) {
      if (ev && (ev.range || ev.lassoPoints)) {
        region = {range: ev.range || null, lassoPoints: ev.lassoPoints || null};
      }
    });
    gd.on("plotly_selected", function (ev) {
      var r = (ev && (ev.range || ev.lassoPoints))
        ? {range: ev.range || null, lassoPoints: ev.lassoPoints || null} : region;
      region = null;
      if (!r || !window.dash_clientside || !window.dash_clientside.set_props) return;
      r.t = Date.now();
      window.dash_clientside.set_props("map-region", {data: r});
    });
  }

  // plotly creates the map after the first render and may re-create it: keep checking
  setInterval(attach, 400);
})();

/* Decentra: the OpenStreetMap base map falls back to the plain background, visibly, when its
 * tiles cannot be loaded (offline, blocked): MapLibre only logs "Map error" to the console. */
(function () {
  "use strict";
  var failures = 0;
  var noted = false;

  function watch() {
    var gd = document.querySelector("#map .js-plotly-plot");
    var layout = gd && gd._fullLayout;
    var map = layout && layout.map && layout.map._subplot && layout.map._subplot.map;
    if (!map) { setTimeout(watch, 500); return; }
    if (map.__decentraTiles) return;
    map.__decentraTiles = true;
    map.on("error", function (e) {
      var raster = e && (e.tile || (e.source && e.source.type === "raster") ||
                         String(e.error && e.error.message || "").indexOf("tile") >= 0);
      if (!raster) return;
      failures += 1;
      if (failures < 3 || noted || !window.dash_clientside || !window.dash_clientside.set_props) {
        return;
      }
      noted = true;
      window.dash_clientside.set_props("basemap-note", {children:
        "OpenStreetMap tiles could not be loaded (offline?): the plain background is shown."});
      window.dash_clientside.set_props("basemap", {value: "plain"});
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else { watch(); }
})();

/* Esc leaves the presentation, unless it closes an open dropdown or popover first (that
   is checked before the dropdown reacts, in the capture phase). */
(function () {
  var closedSomething = false;
  window.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      closedSomething = !!document.querySelector(
        ".dash-dropdown-content, [aria-expanded='true']");
    }
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || closedSomething || e.defaultPrevented) { return; }
    if (document.querySelector(".app.view-present")) {
      var close = document.getElementById("present-close");
      if (close) { close.click(); }
    }
  });
})();
