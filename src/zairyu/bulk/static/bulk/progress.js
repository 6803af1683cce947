/* Shows the progress of a bulk import and loads the result when it is done. The page works
 * without it: it refreshes itself (noscript) and has a reload link. */
(function () {
  "use strict";
  var box = document.querySelector("[data-bulk-progress]");
  if (!box || !window.fetch) { return; }
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(box.getAttribute("data-bulk-progress"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(poll, 3000); return; }
        if (bar) { bar.max = data.total || 1; bar.value = data.done; }
        if (text) { text.textContent = data.done + " / " + data.total; }
        if (data.finished) {
          if (text) { text.textContent = box.getAttribute("data-done-text"); }
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
