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

# measure NAME CMD...: median wall time, median CPU time (user + system) and max peak RSS over
# $runs runs. CPU time is the steadier figure on a shared machine: wall time also counts the
# time a runnable process waited for a CPU. Each result is also kept in $dir/last-*.txt for
# the ratio lines at the end.
measure() {
  local name="$1"; shift
  local times=() cpus=() rss=0
  for _ in $(seq "$runs"); do
    local start end r
    start=$(date +%s%N)
    /usr/bin/time -o "$dir/time.txt" -f '%M %U %S' "$@" >/dev/null 2>/dev/null || true
    end=$(date +%s%N)
    times+=("$(( (end - start) / 1000000 ))")
    read -r r u s < <(tail -1 "$dir/time.txt")
    [ "$r" -gt "$rss" ] && rss=$r
    cpus+=("$(python3 -c "print(round(($u + $s) * 1000))")")
  done
  local median cpu
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$median $cpu" >"$dir/last-$(echo "$name" | cut -d' ' -f1-3 | tr ' /' '__').txt"
  python3 - "$name" "$median" "$cpu" "$rss" "$bytes" "$packets" <<'PY'
import sys
name, ms, cpu, rss, size, packets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
t = max(ms, 1) / 1000
c = max(cpu, 1) / 1000
print(f"| {name} | {t:.3f} s | {c:.3f} s | {size / t / 1e6:,.0f} MB/s | {size / c / 1e6:,.0f} MB/s | {packets / t / 1e6:.2f} M pkt/s | {rss / 1024:.0f} MB |")
PY
}

echo "capture: $file ($((bytes / 1000000)) MB, $packets packets); $(nproc) CPUs; median of $runs runs (wall time includes process start); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | wall time | CPU time | throughput (wall) | throughput (CPU) | packets (wall) | peak RSS |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
measure "wsprobe inspect --format json" "$wsprobe" inspect --format json "$file"
measure "wsprobe inspect (text)" "$wsprobe" inspect "$file"
measure "wsprobe overhead" "$wsprobe" overhead "$file"
if command -v tshark >/dev/null; then
  measure "tshark -Y websocket -T fields -e websocket.opcode -e websocket.payload_length" \
    tshark -r "$file" -Y websocket -T fields -e websocket.opcode -e websocket.payload_length
  echo
  echo "($(tshark --version 2>/dev/null | head -1 | cut -d' ' -f1-3))"
  read -r tw tc <"$dir/last-tshark_-Y_websocket.txt"
  read -r jw jc <"$dir/last-wsprobe_inspect_--format.txt"
  python3 -c "print(f'inspect --format json vs tshark fields: {$tw / max($jw, 1):.1f}x by wall time, {$tc / max($jc, 1):.1f}x by CPU time')"
fi
# permessage-deflate: fixtures/deflate-clean.pcap (two connections, 18 messages, windows of 12
# and 15 bits, a 24 KiB text) repeated 700 times, one second apart: inflation through
# wire::deflate, with the window check of a 12-bit agreement.
dfile="$dir/deflate-clean-x700.pcap"
[ -s "$dfile" ] || python3 - "$root/fixtures/deflate-clean.pcap" "$dfile" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
out, at, recs = bytearray(data[:24]), 24, []
while at + 16 <= len(data):
    ts, frac, cap, orig = struct.unpack("<IIII", data[at:at + 16])
    recs.append((ts, frac, data[at + 16:at + 16 + cap], orig))
    at += 16 + cap
for i in range(700):
    for ts, frac, body, orig in recs:
        out += struct.pack("<IIII", ts + i, frac, len(body), orig) + body
open(sys.argv[2], "wb").write(out)
PY
bytes=$(stat -c %s "$dfile")
packets=$("$wsprobe" overhead --format json "$dfile" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
echo
echo "capture: $dfile ($((bytes / 1000000)) MB, $packets packets, permessage-deflate)"
echo
echo "| command | wall time | CPU time | throughput (wall) | throughput (CPU) | packets (wall) | peak RSS |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
measure "wsprobe inspect --format json (deflate)" "$wsprobe" inspect --format json "$dfile"
measure "wsprobe inspect --messages (deflate)" "$wsprobe" inspect --messages "$dfile"
if [ "$big" -gt 0 ]; then
  bigfile="$dir/synthetic-$big.pcap"
  [ -s "$bigfile" ] || "$gen" synthetic "$bigfile" "$big"
  bytes=$(stat -c %s "$bigfile")
  packets=$("$wsprobe" overhead --format json "$bigfile" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
  file=$bigfile runs=1
  echo
  echo "capture: $bigfile ($((bytes / 1000000)) MB, $packets packets), one run"
  echo
  echo "| command | wall time | CPU time | throughput (wall) | throughput (CPU) | packets (wall) | peak RSS |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  measure "wsprobe inspect --format json" "$wsprobe" inspect --format json "$bigfile"
  measure "wsprobe overhead" "$wsprobe" overhead "$bigfile"
fi
