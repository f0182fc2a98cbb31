/* Decentra: the size of the map and of what covers its edges, so the server can frame the
 * district in the part of the map that is actually visible (toolbar at the bottom, class
 * legend on the right, the presentation panel on the left). Written into the dcc.Store
 * "map-size" on load, on view changes (by a clientside callback) and on window resizes. */
(function () {
  "use strict";

  function shown(el) { return el && el.offsetParent !== null; }

  function measure() {
    var pane = document.querySelector(".map-pane");
    if (!pane) { return null; }
    var r = pane.getBoundingClientRect();
    if (r.width < 50 || r.height < 50) { return null; }
    var tool = document.querySelector(".map-toolbar");
    var legend = document.querySelector(".class-legend");
    var present = document.querySelector(".view-present .present-overlay");
    return {
      w: Math.round(r.width), h: Math.round(r.height),
      bottom: shown(tool) ? Math.round(r.bottom - tool.getBoundingClientRect().top) : 0,
      right: shown(legend) ? Math.round(r.right - legend.getBoundingClientRect().left) : 0,
      left: shown(present) ? Math.round(present.getBoundingClientRect().right - r.left) : 0
    };
  }

  var measured = false;
  window.decentraMeasureMap = function () {
    // after the browser has laid out the view just switched to; the first measurement is
    // the page load (the server leaves a view the user already moved alone)
    var reason = measured ? "view" : "load";
    measured = true;
    return new Promise(function (resolve) {
      setTimeout(function () {
        var m = measure();
        if (m) { m.reason = reason; }
        resolve(m || window.dash_clientside.no_update);
      }, 80);
    });
  };

  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var m = measure();
      if (m) { m.reason = "resize"; }
      if (m && window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props("map-size", {data: m});
      }
    }, 300);
  });
})();
