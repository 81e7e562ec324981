#!/usr/bin/env bash
# Peak RSS of volley for lists of growing length (default 1 and 10 million URLs) against the
# harness's nginx (start it with bench/run.sh or ../shared/bench/server.sh start). The URLs
# cycle over the 20,000 static pages with a distinct query, as in W5.
#
#   bench/flat_memory.sh [N ...]
#
# JOURNAL=1 runs with --journal (a new journal per list, written beside it) and -o; INVALID=1
# makes every line an invalid input (nothing is fetched, no server needed), which measures the
# pipeline and the journal at full speed; DEDUPE=1 adds --dedupe.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$HERE/../target/release/volley"
[ -x "$BIN" ] || (cd "$HERE/.." && cargo build --release --quiet)
[ "${INVALID:-0}" = 1 ] || curl -sf -o /dev/null http://127.0.0.1:18080/p/0.html || {
  echo "flat_memory.sh: nginx on 127.0.0.1:18080 is not answering; start the harness servers" >&2
  exit 2
}
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
echo "| URLs | seconds | req/s | peak RSS MiB | records |"
echo "|---|---|---|---|---|"
for n in ${*:-1000000 10000000}; do
  if [ "${INVALID:-0}" = 1 ]; then
    awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "not-a-url/%d\n", i }' > "$dir/list.txt"
  else
    awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "http://127.0.0.1:18080/p/%d.html?u=%d\n", i % 20000, i }' > "$dir/list.txt"
  fi
  extra=()
  [ "${DEDUPE:-0}" = 1 ] && extra+=(--dedupe)
  rm -f "$dir/out.jsonl" "$dir/run.journal"*
  if [ "${JOURNAL:-0}" = 1 ]; then
    extra+=(--journal "$dir/run.journal" -o "$dir/out.jsonl")
  else
    extra+=(-o "$dir/out.jsonl")
  fi
  /usr/bin/time -f "%e %M" -o "$dir/time" timeout 1800 "$BIN" -c 128 -q -j -i "$dir/list.txt" "${extra[@]}" || true
  wc -l < "$dir/out.jsonl" > "$dir/count"
  read -r secs kb < <(tail -n 1 "$dir/time")
  awk -v n="$n" -v s="$secs" -v kb="$kb" -v c="$(cat "$dir/count")" \
    'BEGIN { printf "| %d | %.1f | %.0f | %.1f | %d |\n", n, s, n / s, kb / 1024, c }'
done
