#!/usr/bin/env bash
# The README's sample command: installs what it needs, starts a private
# redis-server unless REDIS_URL is set, and runs the sample app on PORT (3000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-redis.sh
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm install --no-audit --no-fund
if [ -z "${REDIS_URL:-}" ]; then
  port="${SAMPLE_REDIS_PORT:-6390}"
  dir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes --save '' --daemonize no >"$dir/redis.log" 2>&1 &
  redis_pid=$!
  trap 'kill "$redis_pid" 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export REDIS_URL="redis://127.0.0.1:$port"
  echo "Started redis-server for the sample at $REDIS_URL (data in $dir)"
fi
node -r @swc-node/register sample-app/main.ts
