/* Reading the My Number Card through the local card program (JPKI simulation).
 * The page asks the bridge on 127.0.0.1 to sign the server's challenge; the PIN goes only to the
 * bridge on this computer, never to the server. Without JavaScript, the page offers pasting the
 * card program's output instead. */
(function () {
  "use strict";
  var reader = document.getElementById("card-reader");
  if (!reader || !window.fetch) { return; }
  var form = reader.closest("form");
  var jsOnly = reader.querySelector(".js-only");
  var pin = document.getElementById("card-pin");
  var button = document.getElementById("card-read");
  var status = document.getElementById("card-status");
  var certificate = document.getElementById("card-certificate");
  var signature = document.getElementById("card-signature");
  jsOnly.hidden = false;

  function say(text) { status.textContent = text; }

  /* The exact command that starts a bridge this page may use: its origin, and the bridge's port
   * when it is not the card program's default. */
  function bridgeCommand() {
    var command = status.dataset.bridgeCommand + " --allow-origin " + window.location.origin;
    var port = "";
    try { port = new URL(reader.dataset.bridge).port; } catch (error) { port = ""; }
    if (port && port !== "8765") { command += " --port " + port; }
    return command;
  }

  function read() {
    say("…");
    return fetch(reader.dataset.bridge.replace(/\/$/, "") + "/sign", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ challenge: reader.dataset.challenge, cert: reader.dataset.cert, pin: pin.value })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) {
        var detail = result.body.message || result.body.error || "";
        say(status.dataset.failed + " " + detail);
        return false;
      }
      certificate.value = result.body.certificate;
      signature.value = result.body.signature;
      pin.value = "";
      say(status.dataset.read);
      return true;
    }).catch(function () {
      say(status.dataset.nobridge + " " + bridgeCommand());
      return false;
    });
  }

  button.addEventListener("click", function () { read(); });
  pin.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); read(); }
  });
  form.addEventListener("submit", function (event) {
    var pasted = form.querySelector("[name=card_response]");
    if (certificate.value || (pasted && pasted.value.trim()) || !pin.value) { return; }
    event.preventDefault();
    read().then(function (ok) { if (ok) { form.submit(); } });
  });
}());
