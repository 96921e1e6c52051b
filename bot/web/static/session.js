// Warns before the session ends (idle or absolute), and offers to stay signed in. No inline script (CSP).
(function () {
  "use strict";
  var WARN = 120; // seconds before a limit
  var idleMeta = document.querySelector('meta[name="session-idle-seconds"]');
  var absMeta = document.querySelector('meta[name="session-absolute-seconds"]');
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var banner = document.getElementById("session-warning");
  if (!idleMeta || !absMeta || !banner) return;
  var started = Date.now();
  var idle = Number(idleMeta.content), absolute = Number(absMeta.content);

  function left(total) { return total - (Date.now() - started) / 1000; }
  function minutes(s) { var m = Math.max(1, Math.ceil(s / 60)); return m + (m === 1 ? " minute" : " minutes"); }

  function show(text, canExtend) {
    banner.textContent = text;
    if (canExtend) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "secondary"; b.id = "stay-signed-in"; b.textContent = "Stay signed in";
      b.addEventListener("click", extend);
      banner.appendChild(b);
    }
    banner.hidden = false;
  }

  function extend() {
    fetch("/session", { method: "POST", credentials: "same-origin",
                        headers: { "X-CSRF-Token": csrf ? csrf.content : "" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (!s.signed_in) { window.location = "/login?ended=idle"; return; }
        started = Date.now(); idle = s.idle_seconds; absolute = s.absolute_seconds; banner.hidden = true; shown = "";
      });
  }

  // Other pages (the live alert queue) may count as activity: they report it here.
  document.addEventListener("safecheck:activity", function (e) {
    if (e.detail && typeof e.detail.idle_seconds === "number") {
      started = Date.now(); idle = e.detail.idle_seconds; absolute = e.detail.absolute_seconds;
      if (shown === "idle") { banner.hidden = true; shown = ""; }
    }
  });

  var shown = "";
  function tick() {
    var a = left(absolute), i = left(idle);
    if (a <= 0 || i <= 0) { window.location = "/login?ended=" + (a <= 0 ? "absolute" : "idle"); return; }
    if (a <= WARN && shown !== "absolute") {
      shown = "absolute"; show("Your session reaches its time limit in " + minutes(a) + ". Save your work, then sign in again.", false);
    } else if (i <= WARN && a > WARN && shown !== "idle") {
      shown = "idle"; show("You will be signed out in " + minutes(i) + " without activity.", true);
    }
  }
  setInterval(tick, 5000);
  tick();
})();
