// The dispatch board's map: couriers and the doors of waiting and moving orders.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const holder = document.getElementById("board-map");
    if (!holder) return;
    const data = JSON.parse(document.getElementById("board-data").textContent);
    const view = window.daodianDeliveryMap(holder, data.tiles);
    data.couriers.forEach(function (c, i) { view.place("courier-" + i, [c[1], c[2]], c[0]); });
    data.doors.forEach(function (d) { view.place("door-" + d[0], [d[1], d[2]], "#" + d[0]); });
    view.fit();
  });
})();
