#!/usr/bin/env bash
# The README's sample command: installs what it needs, starts a private
# redis-server unless REDIS_URL is set, and runs the sample app on PORT (3000).
# SIGTERM/SIGINT to this script (or to `npm run sample`) close the app first,
# then its redis-server, and wait for both: nothing is left holding the ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-apt.sh redis-server
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm install --no-audit --no-fund

app_pid=""
redis_pid=""
redis_dir=""
stopping=""

# Stops the app, then Redis (the app's graceful close still needs Redis), waiting for each.
stop_all() {
  [ -n "$stopping" ] && return
  stopping=1
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill -TERM "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
    kill -TERM "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  [ -n "$redis_dir" ] && rm -rf "$redis_dir"
  return 0
}
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 130' INT
trap 'stop_all' EXIT

if [ -z "${REDIS_URL:-}" ]; then
  port="${SAMPLE_REDIS_PORT:-6390}"
  redis_dir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --dir "$redis_dir" --appendonly yes --save '' \
    --maxmemory-policy noeviction --daemonize no >"$redis_dir/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export REDIS_URL="redis://127.0.0.1:$port"
  echo "Started redis-server for the sample at $REDIS_URL (data in $redis_dir)"
fi

# The dashboard at /gotick/ui/ is served from dist/ui: build it once.
[ -f dist/ui/index.html ] || npm run build:ui

# In the background so that this shell can take signals while the app runs ("wait" returns on a trapped signal).
node -r @swc-node/register sample-app/main.ts &
app_pid=$!
set +e
wait "$app_pid"
code=$?
app_pid=""
exit "$code"
