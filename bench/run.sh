#!/usr/bin/env bash
# Runs volley side by side with the peers on the shared harness's workloads and keeps the
# per-run records in bench/results/. The harness itself (servers, peers, report.py) lives in
# ../shared/bench; it is copied to $BENCH_WORK so its venv and node_modules stay out of shared/.
#
#   bench/run.sh                 W1 W3 W5 with volley, curl --parallel, aiohttp, undici
#   bench/run.sh W1              one workload (W4: downloads to disk, with aria2 too)
#   PEERS="subject wrk" bench/run.sh W1
#   RUNS=5 bench/run.sh W3
#
# Everything runs on loopback; every run is bounded by the harness's per-run timeout.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
HARNESS="${BENCH_HARNESS:-$ROOT/../shared/bench}"
WORK="${BENCH_WORK:-/tmp/volley-bench}"
[ -d "$HARNESS" ] || { echo "bench/run.sh: no harness at $HARNESS" >&2; exit 2; }

mkdir -p "$WORK"
cp -r "$HARNESS"/. "$WORK"/
rm -rf "$WORK/results"
(cd "$WORK" && SKIP_OHA="${SKIP_OHA:-1}" ./setup.sh >/dev/null)
(cd "$ROOT" && cargo build --release --quiet)

started=0
if ! (cd "$WORK" && ./server.sh status >/dev/null 2>&1); then
  (cd "$WORK" && ./server.sh start)
  started=1
fi
trap '[ "$started" = 1 ] && (cd "$WORK" && ./server.sh stop) || true' EXIT

mkdir -p "$HERE/results"
for w in ${*:-W1 W3 W5}; do
  case "$w" in
    W4) peers="${PEERS:-subject curl-parallel aria2 aiohttp}" ;;
    W5) peers="${PEERS:-subject curl-parallel aiohttp}" ;;
    *) peers="${PEERS:-subject curl-parallel aiohttp undici}" ;;
  esac
  # shellcheck disable=SC2086
  (cd "$WORK" && SUBJECT_BIN="$ROOT/target/release/volley" BENCH_RESULTS="$HERE/results" \
    ./run.sh "$w" $peers)
done
