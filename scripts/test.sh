#!/usr/bin/env bash
# The README's test command: installs what it needs, runs every jest suite
# (each starts its own redis-server on a free port), and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
# chromium: the dashboard tests drive Debian's browser through playwright-core.
bash scripts/ensure-apt.sh redis-server chromium || exit 1
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm install --no-audit --no-fund || exit 1
report=$(mktemp)
npx jest --runInBand --json --outputFile="$report" "$@"
code=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
' "$report" 2>/dev/null || echo "0 passed, 1 failed"
rm -f "$report"
exit $code
