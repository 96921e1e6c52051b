// Passkeys (WebAuthn): add one on the account page (#passkey-register), sign in with one at the second
// step (#passkey-login). Loaded as a file (strict CSP); without it the TOTP code still works.
(function () {
  "use strict";
  var register = document.getElementById("passkey-register");
  var login = document.getElementById("passkey-login");
  var status = document.getElementById("passkey-status");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  if (!register && !login) return;
  if (!window.PublicKeyCredential || !navigator.credentials) {
    if (register) { register.disabled = true; say("This browser cannot use passkeys."); }
    return;
  }

  function say(text) { if (status) status.textContent = text; }

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf ? csrf.content : "" },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, error: "Something went wrong. Reload the page and try again." }; })
        .then(function (data) { data.status = r.status; return data; });
    });
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id, rawId: toText(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      out.response.userHandle = r.userHandle ? toText(r.userHandle) : null;
    }
    return out;
  }

  function failed(err) {
    // The person cancelled, or the device refused: nothing was changed.
    say(err && err.name === "NotAllowedError" ? "Cancelled. Nothing was changed." :
        (err && err.message) || "That did not work. Try again.");
  }

  function finish(data) {
    if (data.ok && data.redirect) { window.location = data.redirect; return; }
    say(data.error || "That did not work. Try again.");
  }

  if (register) {
    register.addEventListener("click", function () {
      var name = document.getElementById("passkey-name");
      say("Follow the steps your device shows.");
      post("/account/passkeys/options").then(function (o) {
        if (o.ok === false) throw new Error(o.error);
        o.challenge = toBytes(o.challenge);
        o.user.id = toBytes(o.user.id);
        (o.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
        return navigator.credentials.create({ publicKey: o });
      }).then(function (cred) {
        return post("/account/passkeys", { name: name ? name.value : "", credential: credentialJSON(cred) });
      }).then(finish, failed);
    });
  }

  if (login) {
    var area = document.getElementById("passkey-area");
    if (area) area.hidden = false;
    login.addEventListener("click", function () {
      say("Follow the steps your device shows.");
      post("/login/passkey/options").then(function (o) {
        if (o.ok === false) throw new Error(o.error);
        o.challenge = toBytes(o.challenge);
        (o.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
        return navigator.credentials.get({ publicKey: o });
      }).then(function (cred) {
        return post("/login/passkey", { credential: credentialJSON(cred) });
      }).then(finish, failed);
    });
  }
})();
