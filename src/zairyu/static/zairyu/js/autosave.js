/* Saves the step being typed every minute while something changed, so that nothing typed is
 * lost even if the session ends for inactivity, and so that typing keeps the session alive.
 * The page works without it: every "Save" button saves too. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = document.getElementById("autosave-status");
  var dirty = false;
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  function save() {
    if (!dirty) { return; }
    dirty = false;
    var data = new FormData(form);
    data.append("autosave", "1");
    fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.ok && status) { status.textContent = status.dataset.saved.replace("{time}", new Date().toLocaleTimeString()); }
      if (!response.ok) { dirty = true; }
    }).catch(function () { dirty = true; });
  }
  window.setInterval(save, 60000);
  window.addEventListener("pagehide", save);
}());
