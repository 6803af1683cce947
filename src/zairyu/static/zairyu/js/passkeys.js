/* Passkeys (WebAuthn): adding one on the profile page and using one at the second step of sign-in.
 * Each [data-passkey] box holds a status line (its data-* attributes carry the translated
 * messages), a hidden form and a start button. On click the script asks the server for options
 * (POST with the form's CSRF token), converts base64url fields to ArrayBuffers, calls
 * navigator.credentials.create() or .get(), writes the answer as JSON into the form's
 * "credential" field and submits the form. Without WebAuthn the status line says so. */
(function () {
  "use strict";

  function toBuffer(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = window.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) { binary += String.fromCharCode(bytes[i]); }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      var copy = { type: item.type, id: toBuffer(item.id) };
      if (item.transports) { copy.transports = item.transports; }
      return copy;
    });
  }

  function creationOptions(options) {
    options.challenge = toBuffer(options.challenge);
    options.user.id = toBuffer(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBuffer(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return options;
  }

  function answer(credential, registering) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (registering) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return JSON.stringify(json);
  }

  var supported = Boolean(window.PublicKeyCredential && navigator.credentials && window.fetch && window.JSON);

  Array.prototype.forEach.call(document.querySelectorAll("[data-passkey]"), function (box) {
    var status = box.querySelector("[data-passkey-status]");
    var form = box.querySelector("form[data-passkey-form]");
    var button = box.querySelector("[data-passkey-start]");
    if (!status || !form || !button) { return; }
    var registering = box.dataset.passkey === "register";
    function say(text) { status.textContent = text; }

    if (!supported) { say(status.dataset.unsupported); return; }
    say(status.dataset.ready || "");
    form.hidden = false;

    button.addEventListener("click", function () {
      var name = form.querySelector("[name=name]");
      if (registering && name && !name.value.trim()) {
        say(status.dataset.nameMissing);
        name.focus();
        return;
      }
      var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
      button.disabled = true;
      say(status.dataset.working);
      fetch(box.dataset.optionsUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token, "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw { message: body.message || status.dataset.failed }; }
          return body;
        }, function () { throw { message: status.dataset.failed }; });
      }).then(function (options) {
        return registering
          ? navigator.credentials.create({ publicKey: creationOptions(options) })
          : navigator.credentials.get({ publicKey: requestOptions(options) });
      }).then(function (credential) {
        if (!credential) { throw { name: "NotAllowedError" }; }
        form.querySelector("[name=credential]").value = answer(credential, registering);
        say(status.dataset.sending);
        form.submit();
      }).catch(function (error) {
        button.disabled = false;
        if (error && error.message && !error.name) { say(error.message); }
        else if (error && error.name === "NotAllowedError") { say(status.dataset.cancelled); }
        else if (error && error.name === "InvalidStateError") { say(status.dataset.exists); }
        else if (error && error.name === "SecurityError") { say(status.dataset.address); }
        else { say(status.dataset.failed); }
      });
    });
  });
}());
