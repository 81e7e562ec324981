#!/usr/bin/env bash
# What --journal costs on W1 (20,000 small pages from the harness's nginx, c=64): runs with and
# without a journal, interleaved, each journaled run with a new journal; prints req/s per run,
# the medians and the median of the per-pair ratios. Start the harness servers first
# (bench/run.sh does, or ../shared/bench/server.sh start).
#
#   bench/journal_cost.sh [PAIRS]        (default 7)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$HERE/../target/release/volley"
LIST="${BENCH_DATA:-/tmp/bench-data}/lists/w1.txt"
[ -x "$BIN" ] || (cd "$HERE/.." && cargo build --release --quiet)
[ -f "$LIST" ] || { echo "journal_cost.sh: no $LIST; run the harness's setup.sh" >&2; exit 2; }
curl -sf -o /dev/null http://127.0.0.1:18080/p/0.html || {
  echo "journal_cost.sh: nginx on 127.0.0.1:18080 is not answering; start the harness servers" >&2
  exit 2
}
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
n=$(wc -l < "$LIST")
rate() { # seconds -> req/s
  awk -v n="$n" -v s="$1" 'BEGIN { printf "%.0f", n / s }'
}
run() { # extra args...; prints seconds
  local t0 t1
  t0=$(date +%s.%N)
  timeout 120 "$BIN" -q -j -c 64 -i "$LIST" -o "$dir/out.jsonl" "$@" || true
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
plain=(); journal=(); ratios=()
for _ in $(seq "${1:-7}"); do
  rm -f "$dir"/run.journal*
  p=$(rate "$(run)")
  j=$(rate "$(run --journal "$dir/run.journal")")
  [ "$(wc -l < "$dir/out.jsonl")" = "$n" ] || { echo "journal_cost.sh: short output" >&2; exit 1; }
  plain+=("$p"); journal+=("$j")
  ratios+=("$(awk -v p="$p" -v j="$j" 'BEGIN { printf "%.3f", j / p }')")
  echo "plain $p req/s, journal $j req/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "median req/s: plain $(median "${plain[@]}"), --journal $(median "${journal[@]}"); median ratio journal/plain $(median "${ratios[@]}")"
