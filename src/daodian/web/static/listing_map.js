// Store listings: the list/map toggle and the map (Leaflet with marker clusters, vendored). The page gives the
// tiles' URL template and datum and the stores already converted into that datum (web/listings.py), so this
// script never converts coordinates. Without reachable tiles the map still shows the markers, the shopper,
// the scale and the attribution.
(function () {
  "use strict";

  function cardOf(root, id) {
    const row = root.querySelector('[data-store-card="' + id + '"]');
    const card = document.createElement("div");
    card.className = "map-card";
    card.dataset.testid = "map-card";
    if (row) card.append(row.querySelector("a").cloneNode(true));
    return card;
  }

  function draw(root, holder, data) {
    L.Icon.Default.imagePath = "/static/vendor/leaflet/images/";
    const map = L.map(holder, {zoomControl: true, attributionControl: true});
    L.tileLayer(data.tiles.url, {subdomains: data.tiles.subdomains, maxZoom: 19,
      attribution: data.tiles.attribution}).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    L.control.scale({imperial: false}).addTo(map);
    const cluster = L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 50});
    const bounds = [];
    for (const marker of data.markers) {
      const item = L.marker(marker.at, {title: marker.name || "", alt: marker.name || "", keyboard: true});
      item.bindPopup(() => cardOf(root, marker.id), {minWidth: 220});
      item.on("add", () => { const el = item.getElement(); if (el) el.dataset.storeId = marker.id; });
      cluster.addLayer(item);
      bounds.push(marker.at);
    }
    map.addLayer(cluster);
    if (data.viewer) {
      L.circleMarker(data.viewer, {radius: 8, weight: 3, color: "#fff", fillColor: "#1a73e8", fillOpacity: 1,
        className: "viewer-dot"}).addTo(map).bindTooltip(root.dataset.youAreHere || "");
      bounds.push(data.viewer);
    }
    if (bounds.length > 1) map.fitBounds(bounds, {padding: [24, 24], maxZoom: 16});
    else if (bounds.length === 1) map.setView(bounds[0], 15);
    else map.setView([30.25, 120.16], 11);
    return map;
  }

  function setup(root) {
    const holder = root.querySelector("[data-map]");
    const list = root.querySelector("[data-list]");
    const data = JSON.parse(root.querySelector("script[data-map-data]").textContent);
    let map = null;
    root.querySelectorAll("[data-view]").forEach((button) => {
      button.addEventListener("click", () => {
        const showMap = button.dataset.view === "map";
        holder.hidden = !showMap;
        list.hidden = showMap;
        root.querySelectorAll("[data-view]").forEach((b) => {
          const on = b === button;
          b.classList.toggle("on", on);
          b.setAttribute("aria-pressed", String(on));
        });
        if (showMap) {
          if (!map) map = draw(root, holder, data);
          map.invalidateSize();
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!window.L) return;  // the list works without the map
    document.querySelectorAll("[data-listing]").forEach(setup);
  });
})();
