// The courier page sends the phone's position every 5 seconds while the courier is online (the Geolocation
// API gives WGS-84). The server keeps at most one report per few seconds and says when the next is useful.
(function () {
  "use strict";
  const SEND_EVERY_MS = 5000;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }

  function send(position) {
    const body = new URLSearchParams({lat: position.coords.latitude, lng: position.coords.longitude,
      accuracy: position.coords.accuracy || 0, csrf_token: csrfToken()});
    return fetch("/courier/position", {method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRF-Token": csrfToken()}}).then(function (response) {
      const state = document.querySelector('[data-testid="position-state"]');
      if (state && response.ok) {
        state.dataset.sent = String(Number(state.dataset.sent || 0) + 1);
        state.textContent = (state.dataset.label || "%(time)s").replace("%(time)s", new Date().toLocaleTimeString());
      }
    });
  }

  function start() {
    const page = document.querySelector('[data-testid="courier-page"]');
    if (!page || page.dataset.online !== "1" || !navigator.geolocation) return;
    const tick = function () {
      navigator.geolocation.getCurrentPosition(send, function () {}, {enableHighAccuracy: true, maximumAge: 3000,
        timeout: 4000});
    };
    tick();
    window.setInterval(tick, SEND_EVERY_MS);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
