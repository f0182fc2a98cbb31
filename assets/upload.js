/* Decentra: size cap of the import dialog's uploads, checked in the browser.
 *
 * dcc.Upload's own max_size drops an oversized file silently (plotly/dash#2638), and reading a
 * huge file into the page only to refuse it on the server wastes minutes. So the file input's
 * change and the drop are looked at first (capture phase, before react-dropzone): a file over
 * the cap given by the wrapper's data-max-bytes is stopped here and the message is written
 * into the upload's info box (data-info) with dash_clientside.set_props.
 */
(function () {
  "use strict";

  function mb(bytes) { return Math.round(bytes / 1048576).toLocaleString("en"); }

  function guard(ev, files) {
    var box = ev.target && ev.target.closest && ev.target.closest("[data-max-bytes]");
    if (!box || !files || !files.length) { return; }
    var cap = Number(box.getAttribute("data-max-bytes"));
    for (var i = 0; i < files.length; i++) {
      var file = files[i];   // files is live: clearing the input below empties it
      if (file.size > cap) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        var text = file.name + ": the file is " + mb(file.size) + " MB; the limit is " +
          mb(cap) + " MB (DECENTRA_MAX_UPLOAD_MB). Nothing was uploaded.";
        if (ev.type === "change") { ev.target.value = ""; }
        if (window.dash_clientside && window.dash_clientside.set_props) {
          window.dash_clientside.set_props(box.getAttribute("data-info"), {children: {
            type: "Div", namespace: "dash_html_components",
            props: {children: text, className: "import-error small"}}});
        }
        return;
      }
    }
  }

  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.type === "file") { guard(ev, ev.target.files); }
  }, true);
  document.addEventListener("drop", function (ev) {
    guard(ev, ev.dataTransfer && ev.dataTransfer.files);
  }, true);
})();
