#!/usr/bin/env bash
# Determinism harness: runs wsprobe's built-in suites N times against each interop peer (release
# binary, one peer process per peer for all N runs) and reports per peer the runs, the cases and
# the cases whose verdict was not identical in every run ("flips"), with verdict counts and the
# failure report of a minority run. Exit 1 when any case flips.
#
#   interop/determinism.sh N [PEER...]     # default: every peer of interop/run.sh
#
# Bounded in time: each run is killed after DETERMINISM_RUN_TIMEOUT seconds (default 900; a
# killed run counts as a run whose cases are all MISSING), and no new run starts once
# DETERMINISM_BUDGET seconds (default unlimited) have passed since the start.
# DETERMINISM_KEEP=DIR keeps every run's JSON Lines output in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

n="${1:-}"
case "$n" in ''|*[!0-9]*|0) echo "usage: interop/determinism.sh N [PEER...]" >&2; exit 2 ;; esac
shift
run_timeout="${DETERMINISM_RUN_TIMEOUT:-900}"
budget="${DETERMINISM_BUDGET:-0}"

# shellcheck source=interop/peers.sh
. "$root/interop/peers.sh"
interop_begin "$@"

install_peers
cargo build --release --locked -q
wsprobe="$root/target/release/wsprobe"
keep="${DETERMINISM_KEEP:-}"
[ -n "$keep" ] && mkdir -p "$keep"

start=$(date +%s)
status=0
for peer in "${peers[@]}"; do
  start_peer "$peer"
  outs=()
  times=""
  for i in $(seq "$n"); do
    if [ "$budget" -gt 0 ] && [ $(( $(date +%s) - start )) -ge "$budget" ]; then
      echo "determinism: time budget of ${budget} s spent; $peer stopped after $((i - 1)) runs" >&2
      break
    fi
    out="$work/$peer.$i.jsonl"
    t0=$(date +%s.%N)
    set +e
    timeout "$run_timeout" "$wsprobe" run "${peer_args[@]}" --target "$peer_url" --format json \
      --color never > "$out" 2> "$work/$peer.$i.err"
    code=$?
    set -e
    times="$times$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)"),"
    if [ "$code" -ge 2 ]; then
      echo "determinism: run $i against $peer exited $code: $(head -c 300 "$work/$peer.$i.err")" >&2
    fi
    [ -n "$keep" ] && cp "$out" "$keep/$peer.$i.jsonl"
    outs+=("$out")
  done
  [ ${#outs[@]} -gt 0 ] || continue
  python3 interop/flips.py "$peer" "$times" "${outs[@]}" || status=1
done
exit $status
