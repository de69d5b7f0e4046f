#!/usr/bin/env bash
# Copies the pinned npm packages the pages use into the static folder (served locally, no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/daodian/web/static/vendor
mkdir -p "$dest"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/"
cp node_modules/echarts/dist/echarts.min.js "$dest/"
