#!/usr/bin/env bash
# Interop: runs wsprobe's built-in suites against real third-party servers and checks the
# verdicts against the reviewed expectations in interop/expected/. Installs the peers at pinned
# versions (as root in CI), starts each on 127.0.0.1, and stops them on exit.
#
#   interop/run.sh                 # check every peer once
#   interop/run.sh --repeat N      # run each peer N times; fail if a verdict differs between the
#                                  # repeats or from the expectations (INTEROP_REPEAT=N does the same);
#                                  # the *-deflate peers (permessage-deflate suites only) run once
#   interop/run.sh --record        # rewrite expected/*.yaml from this run with --expect-update
#                                  # (keeps the comments of unchanged lines; review the diff!)
#   interop/run.sh [...] PEER...   # only the named peers (tokio-tungstenite, python-websockets,
#                                  # node-ws, websocketd-counter, websocketd-echo, aiohttp,
#                                  # tornado, websocket-node, python-websockets-deflate,
#                                  # node-ws-deflate, aiohttp-deflate, tornado-deflate,
#                                  # python-websockets-tls: wss://, judged against the same
#                                  # expectations as python-websockets; axum; axum-http2: the
#                                  # same axum server over HTTP/2 (`run --http2`), judged
#                                  # against axum's expectations; node-ws-http2: Node's
#                                  # http2 module with ws on each stream, judged against
#                                  # node-ws's expectations). Only when named, never in the
#                                  # default set: hypercorn, hypercorn-http2 (peers.sh says why)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

record=false
repeat="${INTEROP_REPEAT:-1}"
while [ $# -gt 0 ]; do
  case "$1" in
    --record) record=true; shift ;;
    --repeat) repeat="${2:-}"; shift 2 ;;
    --) shift; break ;;
    -*) echo "interop/run.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
case "$repeat" in ''|*[!0-9]*|0) echo "interop/run.sh: --repeat needs a positive number" >&2; exit 2 ;; esac
if $record && [ "$repeat" != 1 ]; then echo "interop/run.sh: --record takes one run" >&2; exit 2; fi

# shellcheck source=interop/peers.sh
. "$root/interop/peers.sh"
interop_begin "$@"

python3 interop/test_flips.py 2> "$work/test_flips.log" || { cat "$work/test_flips.log" >&2; exit 1; }
install_peers
cargo build --release --locked -q
wsprobe="$root/target/release/wsprobe"

status=0
for peer in "${peers[@]}"; do
  start_peer "$peer"
  outs=()
  times=""
  # The *-deflate peers move gigabytes through Python and Node compressors: one run each; the
  # *-tls peers repeat what their plain runs already repeat.
  runs="$repeat"
  case "$peer" in *-deflate|*-tls) runs=1 ;; esac
  for i in $(seq "$runs"); do
    out="$work/$peer.$i.jsonl"
    t0=$(date +%s.%N)
    code=0
    if $record && [ "$(expected_for "$peer")" != "$peer" ] && ! records_shared "$peer"; then
      # A peer judged against another's expectations does not rewrite them (the *-http2
      # peers add their transport's own cases: see expected_for in peers.sh).
      record=false check_peer "$peer" "interop/expected/$(expected_for "$peer").yaml" "$out" \
        "${peer_args[@]}" --target "$peer_url" || code=$?
    else
      check_peer "$peer" "interop/expected/$(expected_for "$peer").yaml" "$out" \
        "${peer_args[@]}" --target "$peer_url" || code=$?
    fi
    times="$times$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)"),"
    [ "$code" -ge 2 ] && { status=1; continue 2; }
    [ "$code" -ne 0 ] && status=1
    outs+=("$out")
  done
  if [ "$runs" -gt 1 ]; then
    python3 interop/flips.py "$peer" "$times" "${outs[@]}" || status=1
  fi
done

exit $status
