// The live alert queue: when the server's event stream says the queue changed, fetch the list again
// and swap it in, announcing new alerts to screen readers; while the tab is visible, the open queue
// counts as activity (it pings /session, and session.js hears of it). No inline script (CSP); the
// page works without this file, with its Refresh link.
(function () {
  "use strict";
  var box = document.getElementById("alert-queue");
  if (!box || !window.EventSource || !window.fetch) return;
  var announcer = document.getElementById("alert-announcer");
  var live = document.getElementById("live-status");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var PING_MS = 60000;
  var baseTitle = document.title;

  function summaries() {
    var found = {};
    box.querySelectorAll("[data-alert-id]").forEach(function (item) {
      found[item.getAttribute("data-alert-id")] = item.getAttribute("data-summary");
    });
    return found;
  }

  function announce(text) {
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function showCount() {
    var heading = document.getElementById("queue-heading");
    var count = heading ? Number(heading.getAttribute("data-count")) : 0;
    document.title = count > 0 ? "(" + count + ") " + baseTitle : baseTitle;
  }

  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(box.getAttribute("data-fragment"), { credentials: "same-origin" })
      .then(function (r) {
        if (r.redirected || !r.ok) throw new Error("no list");
        return r.text();
      })
      .then(function (html) {
        var before = summaries();
        var active = document.activeElement;
        var focused = active && box.contains(active) ? active.id : "";
        box.innerHTML = html; // rendered and escaped by the server's templates
        var after = summaries(), fresh = [];
        Object.keys(after).forEach(function (id) { if (!(id in before)) fresh.push(after[id]); });
        if (fresh.length) announce((fresh.length === 1 ? "New alert: " : "New alerts: ") + fresh.join(". "));
        if (focused) {
          var again_ = document.getElementById(focused) || document.getElementById("alerts-heading");
          if (again_) again_.focus();
        }
        showCount();
      })
      .catch(function () { window.location.reload(); }) // signed out, or the server restarted
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource(box.getAttribute("data-events"));
  source.addEventListener("queue", refresh);
  source.addEventListener("ended", function (e) {
    source.close();
    var why = JSON.parse(e.data);
    window.location = "/login?ended=" + (why === "idle" || why === "absolute" ? why : "out");
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED && live) {
      live.textContent = "Live updates have stopped. Use Refresh to see new alerts.";
      live.hidden = false;
    }
  });

  function ping() {
    if (document.visibilityState !== "visible") return;
    fetch("/session", { method: "POST", credentials: "same-origin",
                        headers: { "X-CSRF-Token": csrf ? csrf.content : "" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.signed_in) document.dispatchEvent(new CustomEvent("safecheck:activity", { detail: s }));
      })
      .catch(function () { /* signed out: session.js and the stream take the page to the login */ });
  }
  window.setInterval(ping, PING_MS);
  document.addEventListener("visibilitychange", ping);
  showCount();
})();
