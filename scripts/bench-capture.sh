#!/usr/bin/env bash
# Capture-inspection benchmark: wsprobe inspect/overhead against tshark on the same synthetic
# capture, in the same run. Measures, never asserts. Usage:
#   bash scripts/bench-capture.sh [SIZE_MB=100] [RUNS=3] [BIG_MB=0]
# BIG_MB > 0 also measures peak RSS on a capture of that size (e.g. 1000 for the 1 GB goal).
# Needs: cargo, GNU time (/usr/bin/time), tshark for the comparison (skipped without it).
set -euo pipefail
size=${1:-100}
runs=${2:-3}
big=${3:-0}
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build --release --quiet 2>/dev/null
cargo build --release --quiet --example gen_captures 2>/dev/null
gen="${CARGO_TARGET_DIR:-$root/target}/release/examples/gen_captures"
wsprobe="${CARGO_TARGET_DIR:-$root/target}/release/wsprobe"
dir="${BENCH_DIR:-${TMPDIR:-/tmp}/wsprobe-bench}"
mkdir -p "$dir"
file="$dir/synthetic-$size.pcap"
[ -s "$file" ] || "$gen" synthetic "$file" "$size"
bytes=$(stat -c %s "$file")
packets=$("$wsprobe" overhead --format json "$file" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
cat "$file" >/dev/null # page cache, so every tool reads from memory

# measure NAME CMD...: median wall time and max peak RSS over $runs runs.
measure() {
  local name="$1"; shift
  local times=() rss=0
  for _ in $(seq "$runs"); do
    local start end r
    start=$(date +%s%N)
    /usr/bin/time -o "$dir/time.txt" -f '%M' "$@" >/dev/null 2>/dev/null || true
    end=$(date +%s%N)
    times+=("$(( (end - start) / 1000000 ))")
    r=$(tail -1 "$dir/time.txt"); [ "$r" -gt "$rss" ] && rss=$r
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  python3 - "$name" "$median" "$rss" "$bytes" "$packets" <<'PY'
import sys
name, ms, rss, size, packets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
t = max(ms, 1) / 1000
print(f"| {name} | {t:.3f} s | {size / t / 1e6:,.0f} MB/s | {packets / t / 1e6:.2f} M pkt/s | {rss / 1024:.0f} MB |")
PY
}

echo "capture: $file ($((bytes / 1000000)) MB, $packets packets); $(nproc) CPUs; median of $runs runs (wall time includes process start)"
echo
echo "| command | time | throughput | packets | peak RSS |"
echo "| --- | ---: | ---: | ---: | ---: |"
measure "wsprobe inspect --format json" "$wsprobe" inspect --format json "$file"
measure "wsprobe inspect (text)" "$wsprobe" inspect "$file"
measure "wsprobe overhead" "$wsprobe" overhead "$file"
if command -v tshark >/dev/null; then
  measure "tshark -Y websocket -T fields -e websocket.opcode -e websocket.payload_length" \
    tshark -r "$file" -Y websocket -T fields -e websocket.opcode -e websocket.payload_length
  echo
  echo "($(tshark --version 2>/dev/null | head -1 | cut -d' ' -f1-3))"
fi
if [ "$big" -gt 0 ]; then
  bigfile="$dir/synthetic-$big.pcap"
  [ -s "$bigfile" ] || "$gen" synthetic "$bigfile" "$big"
  bytes=$(stat -c %s "$bigfile")
  packets=$("$wsprobe" overhead --format json "$bigfile" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
  file=$bigfile runs=1
  echo
  echo "capture: $bigfile ($((bytes / 1000000)) MB, $packets packets), one run"
  echo
  echo "| command | time | throughput | packets | peak RSS |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  measure "wsprobe inspect --format json" "$wsprobe" inspect --format json "$bigfile"
  measure "wsprobe overhead" "$wsprobe" overhead "$bigfile"
fi
