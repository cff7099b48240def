#!/usr/bin/env bash
# Interop: runs wsprobe's built-in suites against real third-party servers and checks the
# verdicts against the reviewed expectations in interop/expected/. Installs the peers at pinned
# versions (as root in CI), starts each on 127.0.0.1, and stops them on exit.
#
#   interop/run.sh                 # check every peer
#   interop/run.sh --record        # rewrite expected/*.txt from this run (then review the diff!)
#   interop/run.sh [--record] PEER # only the named peers (tokio-tungstenite, python-websockets,
#                                  # node-ws, websocketd-counter, websocketd-echo)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

WS_VERSION=8.23.0          # npm ws
WEBSOCKETS_VERSION=17.4    # PyPI websockets
record=false
if [ "${1:-}" = "--record" ]; then record=true; shift; fi
only=("$@")
wanted() { [ ${#only[@]} -eq 0 ] && return 0; local p; for p in "${only[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

install_peers() {
  if ! command -v websocketd >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q websocketd >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q websocketd >/dev/null; }
    fi
  fi
  if [ ! -d interop/node/node_modules/ws ]; then
    mkdir -p interop/node
    (cd interop/node && npm install --silent --no-audit --no-fund --prefix . "ws@$WS_VERSION" >/dev/null)
  fi
  if ! python3 -c "import websockets, sys; sys.exit(websockets.__version__ != '$WEBSOCKETS_VERSION')" 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check "websockets==$WEBSOCKETS_VERSION"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "interop: nothing listens on 127.0.0.1:$1" >&2
  return 1
}

wait_file() {
  for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "interop: $1 was not written" >&2
  return 1
}

install_peers
cargo build --release --locked -q
wsprobe="$root/target/release/wsprobe"

status=0
check() { # peer url [wsprobe run arguments...]
  local peer="$1" url="$2"; shift 2
  wanted "$peer" || return 0
  local out="$work/$peer.jsonl"
  set +e
  "$wsprobe" run "$@" --target "$url" --format json --color never > "$out" 2> "$work/$peer.err"
  local code=$?
  set -e
  if [ "$code" -ge 2 ]; then
    echo "interop: wsprobe against $peer exited $code:"; cat "$work/$peer.err"; status=1; return
  fi
  if $record; then
    python3 - "$out" > "interop/expected/$peer.txt" <<'PY'
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
        why = f'  # {f.get("summary", "")}' + (f": {observed}" if observed else "")
    print(f'{r["id"]} {r["verdict"]}{why}')
PY
    echo "interop: recorded interop/expected/$peer.txt"
  else
    python3 interop/compare.py "$peer" "interop/expected/$peer.txt" "$out" || status=1
  fi
}

# 1. wsprobe's own tokio-tungstenite reference server.
if wanted tokio-tungstenite; then
  port=$(free_port)
  "$wsprobe" serve --port "$port" > /dev/null & pids+=($!)
  wait_port "$port"
  check tokio-tungstenite "ws://127.0.0.1:$port/"
fi

# 2. Python websockets.
if wanted python-websockets; then
  python3 interop/peers/websockets-echo.py "$work/py.port" 2> "$work/py.log" & pids+=($!)
  wait_file "$work/py.port"
  check python-websockets "ws://127.0.0.1:$(cat "$work/py.port")/"
fi

# 3. Node ws.
if wanted node-ws; then
  NODE_PATH="$root/interop/node/node_modules" node interop/peers/ws-echo.js "$work/node.port" 2> "$work/node.log" & pids+=($!)
  wait_file "$work/node.port"
  check node-ws "ws://127.0.0.1:$(cat "$work/node.port")/"
fi

# 4. websocketd: the seed article's counter, and a line echo. websocketd relays lines of text
# only, so the 9.x performance cases (megabytes of binary and text, kill timers of up to
# 1000 s) are left out for its echo: they would only measure the timers.
if wanted websocketd-counter; then
  port=$(free_port)
  websocketd --address=127.0.0.1 --port="$port" --loglevel=fatal "$root/fixtures/count.sh" 2> "$work/wsd1.log" & pids+=($!)
  wait_port "$port"
  check websocketd-counter "ws://127.0.0.1:$port/" suites/examples/counter.yaml
fi
if wanted websocketd-echo; then
  port=$(free_port)
  websocketd --address=127.0.0.1 --port="$port" --loglevel=fatal "$root/interop/peers/echo.sh" 2> "$work/wsd2.log" & pids+=($!)
  wait_port "$port"
  check websocketd-echo "ws://127.0.0.1:$port/" --exclude 'limits.*'
fi

exit $status
