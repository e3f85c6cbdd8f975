#!/usr/bin/env bash
# Installs what the tests and the sample need from Debian's packages when a command is missing.
# Usage: ensure-apt.sh command[:package] ...   (e.g. redis-server chromium)
set -euo pipefail
missing=()
for want in "$@"; do
  cmd="${want%%:*}"; pkg="${want#*:}"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "not found: ${missing[*]}: installing with apt-get" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
