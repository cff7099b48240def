#!/usr/bin/env bash
# Wall time of the whole built-in conformance run (Autobahn categories 1-13 plus wsprobe's own
# handshake, ready-state, permessage-deflate and extra cases) against the embedded reference
# server, with the default --jobs and with --jobs 1, median of N runs, plus peak RSS; and the
# 216 permessage-deflate echo loops of Autobahn 12.x/13.x on their own.
#
#   scripts/bench-suite.sh [RUNS]     (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo build --release --locked -q
bin=target/release/wsprobe
cases=$("$bin" list --format json | wc -l)
measure() { # label args...
  local label="$1"; shift
  local times=() rss=0
  for _ in $(seq "$runs"); do
    local start end out
    start=$(date +%s.%N)
    out=$( { /usr/bin/time -f '%M' "$bin" run --color never "$@" > /dev/null; } 2>&1 | tail -1 )
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
    [ "$out" -gt "$rss" ] && rss="$out"
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-28s median %6.2f s over %d runs, peak RSS %d MiB\n' "$label" "$median" "$runs" $((rss / 1024))
}
echo "wsprobe run: $cases cases, $(nproc) cores"
measure "12.x/13.x (216 cases)" --case '12.*' --case '13.*'
measure "default --jobs"
measure "--jobs 1" --jobs 1
