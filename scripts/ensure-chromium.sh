#!/usr/bin/env bash
# Installs Debian's chromium when it is missing: the dashboard's browser tests (test/ui) drive it with
# playwright-core, which never downloads a browser of its own.
set -euo pipefail
if [ ! -x "${GOTICK_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "chromium not found: installing it with apt-get" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
