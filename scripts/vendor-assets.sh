#!/usr/bin/env bash
# Copies the pinned npm packages the pages use into the static folder (served locally, no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/daodian/web/static/vendor
mkdir -p "$dest"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/"
cp node_modules/echarts/dist/echarts.min.js "$dest/"
# The map (Leaflet and its marker clusters), the API explorer at /docs, the accessibility scanner used by the tests.
mkdir -p "$dest/leaflet" "$dest/swagger-ui"
cp -r node_modules/leaflet/dist/. "$dest/leaflet/"
cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js node_modules/leaflet.markercluster/dist/MarkerCluster.css \
   node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css "$dest/leaflet/"
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css "$dest/swagger-ui/"
cp node_modules/axe-core/axe.min.js "$dest/"
