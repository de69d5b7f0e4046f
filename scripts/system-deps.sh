#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium for the browser tests, PostGIS for the PostgreSQL leg.
# Installs only what is missing, and only when it can (root with apt); otherwise says what to install.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if command -v pg_config >/dev/null 2>&1 || [ -d /usr/lib/postgresql ]; then
  pgver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -n "$pgver" ] && [ ! -e "/usr/share/postgresql/$pgver/extension/postgis.control" ]; then
    missing+=("postgresql-$pgver-postgis-3")
  fi
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
fi
