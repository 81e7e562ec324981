#!/usr/bin/env bash
# Peak RSS of volley for lists of growing length (default 1 and 10 million URLs) against the
# harness's nginx (start it with bench/run.sh or ../shared/bench/server.sh start). The URLs
# cycle over the 20,000 static pages with a distinct query, as in W5.
#
#   bench/flat_memory.sh [N ...]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$HERE/../target/release/volley"
[ -x "$BIN" ] || (cd "$HERE/.." && cargo build --release --quiet)
curl -sf -o /dev/null http://127.0.0.1:18080/p/0.html || {
  echo "flat_memory.sh: nginx on 127.0.0.1:18080 is not answering; start the harness servers" >&2
  exit 2
}
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
echo "| URLs | seconds | req/s | peak RSS MiB | records |"
echo "|---|---|---|---|---|"
for n in ${*:-1000000 10000000}; do
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "http://127.0.0.1:18080/p/%d.html?u=%d\n", i % 20000, i }' > "$dir/list.txt"
  /usr/bin/time -f "%e %M" -o "$dir/time" timeout 1800 "$BIN" -c 128 -q -j -i "$dir/list.txt" \
    | wc -l > "$dir/count"
  read -r secs kb < "$dir/time"
  awk -v n="$n" -v s="$secs" -v kb="$kb" -v c="$(cat "$dir/count")" \
    'BEGIN { printf "| %d | %.1f | %.0f | %.1f | %d |\n", n, s, n / s, kb / 1024, c }'
done
