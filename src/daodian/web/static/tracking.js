// The consumer's live tracking: the store, the door and the courier on a map, the status, ETA and timeline,
// updated from server-sent events (the server sends the delivery when it changes).
(function () {
  "use strict";

  function json(id) { return JSON.parse(document.getElementById(id).textContent); }

  function hhmm(iso) {
    const d = new Date(iso);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function start() {
    const root = document.querySelector('[data-testid="tracking"]');
    if (!root) return;
    const words = json("tracking-words");
    const data = json("tracking-data");
    const view = window.daodianDeliveryMap(document.getElementById("tracking-map"), data.tiles);
    view.place("store", data.store, words.store);
    view.place("door", data.door, words.door);
    view.place("courier", data.courier, words.courier);
    view.fit();
    if (!window.EventSource) return;
    const events = new EventSource(root.dataset.events);
    events.addEventListener("delivery", function (event) {
      const update = JSON.parse(event.data);
      const delivery = update.delivery;
      const status = root.querySelector('[data-testid="delivery-status"]');
      status.dataset.status = delivery.status;
      status.textContent = words[delivery.status] || "";
      root.querySelector('[data-testid="eta"]').textContent =
        delivery.eta ? words.eta.replace("%(time)s", hhmm(delivery.eta)) : "";
      const courier = view.place("courier", update.map.courier, words.courier);
      if (courier) root.dataset.courierAt = update.map.courier.join(",");
      if (delivery.status === "delivered" || delivery.status === "cancelled") events.close();
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
