// The courier page sends the phone's position every 5 seconds while the courier is online (the Geolocation
// API gives WGS-84). The server keeps at most one report per few seconds and says when the next is useful.
// Reports go over one WebSocket for as long as the page is open (the server knows the courier from the
// handshake's cookie: a frame per report, not a request); while the socket is down they go as form posts,
// and the socket is tried again after a pause that grows to a minute.
(function () {
  "use strict";
  const SEND_EVERY_MS = 5000;
  const SOCKET_PATH = "/api/v1/couriers/me/positions/live";
  const REFUSED = [4401, 4403]; // the server will not take this page's reports over a socket: posts say why
  let socket = null;
  let retryMs = 2000;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }

  function sent(channel) {
    const state = document.querySelector('[data-testid="position-state"]');
    if (!state) return;
    state.dataset.sent = String(Number(state.dataset.sent || 0) + 1);
    state.dataset.channel = channel;
    state.textContent = (state.dataset.label || "%(time)s").replace("%(time)s", new Date().toLocaleTimeString());
  }

  function open() {
    if (!window.WebSocket) return;
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const opening = new WebSocket(scheme + "//" + window.location.host + SOCKET_PATH);
    opening.addEventListener("open", function () { socket = opening; retryMs = 2000; });
    opening.addEventListener("message", function (event) {
      let answer = null;
      try { answer = JSON.parse(event.data); } catch (e) { return; }
      if (answer && !answer.error) sent("socket");
    });
    opening.addEventListener("close", function (event) {
      if (socket === opening) socket = null;
      if (REFUSED.indexOf(event.code) !== -1) return;
      window.setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 60000);
    });
  }

  function post(coords) {
    const body = new URLSearchParams({lat: coords.latitude, lng: coords.longitude, accuracy: coords.accuracy || 0,
      csrf_token: csrfToken()});
    return fetch("/courier/position", {method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRF-Token": csrfToken()}}).then(function (response) { if (response.ok) sent("post"); });
  }

  function send(position) {
    const coords = position.coords;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({lat: coords.latitude, lng: coords.longitude, datum: "wgs84",
        accuracy_m: coords.accuracy || null}));
      return;
    }
    post(coords);
  }

  function start() {
    const page = document.querySelector('[data-testid="courier-page"]');
    if (!page || page.dataset.online !== "1" || !navigator.geolocation) return;
    open();
    const tick = function () {
      navigator.geolocation.getCurrentPosition(send, function () {}, {enableHighAccuracy: true, maximumAge: 3000,
        timeout: 4000});
    };
    tick();
    window.setInterval(tick, SEND_EVERY_MS);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
