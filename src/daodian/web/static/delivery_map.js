// A small Leaflet map for delivery pages: tiles from the configured template (they may be unreachable: the
// markers, the scale and the attribution still show), points already in the tiles' datum (the server converts).
window.daodianDeliveryMap = function (holder, tiles) {
  "use strict";
  L.Icon.Default.imagePath = "/static/vendor/leaflet/images/";
  const map = L.map(holder, {zoomControl: true, attributionControl: true});
  L.tileLayer(tiles.url, {subdomains: tiles.subdomains, maxZoom: 19, attribution: tiles.attribution}).addTo(map);
  L.control.scale({imperial: false}).addTo(map);
  const markers = {};
  return {
    map: map,
    place: function (key, at, label) {
      if (!at) return null;
      if (markers[key]) { markers[key].setLatLng(at); return markers[key]; }
      markers[key] = L.marker(at, {title: label, alt: label, keyboard: true}).addTo(map).bindTooltip(label);
      markers[key].on("add", function () { const el = markers[key].getElement(); if (el) el.dataset.marker = key; });
      const el = markers[key].getElement();
      if (el) el.dataset.marker = key;
      return markers[key];
    },
    fit: function () {
      const points = Object.values(markers).map(function (m) { return m.getLatLng(); });
      if (points.length === 1) map.setView(points[0], 15);
      else if (points.length) map.fitBounds(L.latLngBounds(points).pad(0.2));
      else map.setView([30.26, 120.15], 12);
    }
  };
};
