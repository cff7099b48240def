#!/usr/bin/env bash
# Interop: runs wsprobe's built-in suites against real third-party servers and checks the
# verdicts against the reviewed expectations in interop/expected/. Installs the peers at pinned
# versions (as root in CI), starts each on 127.0.0.1, and stops them on exit.
#
#   interop/run.sh                 # check every peer once
#   interop/run.sh --repeat N      # run each peer N times; fail if a verdict differs between the
#                                  # repeats or from the expectations (INTEROP_REPEAT=N does the same);
#                                  # the *-deflate peers (permessage-deflate suites only) run once
#   interop/run.sh --record        # rewrite expected/*.txt from this run (then review the diff!)
#   interop/run.sh [...] PEER...   # only the named peers (tokio-tungstenite, python-websockets,
#                                  # node-ws, websocketd-counter, websocketd-echo, aiohttp,
#                                  # tornado, websocket-node, python-websockets-deflate,
#                                  # node-ws-deflate, aiohttp-deflate, tornado-deflate,
#                                  # python-websockets-tls: wss://, judged against the same
#                                  # expectations as python-websockets)
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

record_expected() { # peer results.jsonl
  python3 - "$2" > "interop/expected/$1.txt" <<'PY'
import json, sys
print("# case-id verdict  (reviewed against RFC 6455; the comment after a non-PASS verdict says")
print("# what the peer did, from wsprobe's failure report)")
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "summary" in r:  # the run's closing summary record
        continue
    why = ""
    f = r.get("failure") or {}
    if r["verdict"] != "PASS" and f:
        observed = " ".join(str(f.get("observed") or "").split())
        if len(observed) > 110:
            observed = observed[:107] + "..."
        if not observed:  # e.g. "took a NON-STRICT alternative": say how the connection ended
            observed = (r.get("close") or {}).get("detail", "")
        why = f'  # {f.get("summary", "")}' + (f": {observed}" if observed else "")
    print(f'{r["id"]} {r["verdict"]}{why}')
PY
  echo "interop: recorded interop/expected/$1.txt"
}

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
    set +e
    "$wsprobe" run "${peer_args[@]}" --target "$peer_url" --format json --color never > "$out" 2> "$work/$peer.err"
    code=$?
    set -e
    times="$times$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)"),"
    if [ "$code" -ge 2 ]; then
      echo "interop: wsprobe against $peer exited $code:"; cat "$work/$peer.err"; status=1; continue 2
    fi
    outs+=("$out")
    if $record; then
      [ "$(expected_for "$peer")" = "$peer" ] && record_expected "$peer" "$out"
    else
      python3 interop/compare.py "$peer" "interop/expected/$(expected_for "$peer").txt" "$out" || status=1
    fi
  done
  if [ "$runs" -gt 1 ]; then
    python3 interop/flips.py "$peer" "$times" "${outs[@]}" || status=1
  fi
done

exit $status
