# Sourced by interop/run.sh, interop/determinism.sh and interop/traces.sh: installs the
# third-party peers at pinned versions and starts one by name. Expects $root (the repository);
# interop_begin sets up $work (a scratch directory), the `pids` array of processes stopped on
# exit, and the `peers` to use.

WS_VERSION=8.23.0               # npm ws
WEBSOCKET_NODE_VERSION=1.0.35   # npm websocket (WebSocket-Node)
WEBSOCKETS_VERSION=17.4         # PyPI websockets
AIOHTTP_VERSION=3.14.5          # PyPI aiohttp
TORNADO_VERSION=6.6.1           # PyPI tornado

ALL_PEERS=(tokio-tungstenite python-websockets node-ws websocketd-counter websocketd-echo
           aiohttp tornado websocket-node
           python-websockets-deflate node-ws-deflate aiohttp-deflate tornado-deflate
           python-websockets-tls)

# expected_for PEER: the expectations file a peer is judged against. Over TLS a peer must give
# exactly the verdicts it gives over TCP, so it shares that peer's file.
expected_for() {
  case "$1" in
    *-tls) echo "${1%-tls}" ;;
    *) echo "$1" ;;
  esac
}

# The permessage-deflate suites (RFC 7692), which the *-deflate peers run: the same libraries
# with compression turned on. Autobahn 12.x/13.x move about 11 GB through each such peer, so
# the Python peers (python-websockets, aiohttp, tornado) run them up to 4 KiB messages
# (12.x.1-5, 13.x.1-5, 120 cases); node-ws, whose zlib is C, runs all 216.
DEFLATE_SUITES=(suites/deflate-negotiation.yaml suites/deflate-behaviour.yaml suites/deflate-autobahn.yaml)
DEFLATE_SMALL=()
for _c in 12 13; do
  for _n in 6 7 8 9 '1?'; do DEFLATE_SMALL+=(--exclude "$_c.*.$_n"); done
done

pip_pinned() { # pip-name version
  if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check "$1==$2"
  fi
}

install_peers() {
  if ! command -v websocketd >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q websocketd >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q websocketd >/dev/null; }
    fi
  fi
  local have_ws have_wsn
  have_ws=$(node -p "require('$root/interop/node/node_modules/ws/package.json').version" 2>/dev/null || true)
  have_wsn=$(node -p "require('$root/interop/node/node_modules/websocket/package.json').version" 2>/dev/null || true)
  if [ "$have_ws" != "$WS_VERSION" ] || [ "$have_wsn" != "$WEBSOCKET_NODE_VERSION" ]; then
    mkdir -p "$root/interop/node"
    (cd "$root/interop/node" && npm install --silent --no-audit --no-fund --prefix . \
      "ws@$WS_VERSION" "websocket@$WEBSOCKET_NODE_VERSION" >/dev/null)
  fi
  pip_pinned websockets "$WEBSOCKETS_VERSION"
  pip_pinned aiohttp "$AIOHTTP_VERSION"
  pip_pinned tornado "$TORNADO_VERSION"
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

# start_peer NAME: starts the peer on 127.0.0.1 and sets peer_url and peer_args (the extra
# `wsprobe run` arguments for it). websocketd relays lines of text only, so the 9.x performance
# cases (megabytes of binary and text, kill timers of up to 1000 s) are left out for its echo:
# they would only measure the timers; so are the window-bits negotiation cases, whose declined
# path echoes kilobytes of random binary data.
start_peer() {
  local name="$1" port
  peer_args=()
  case "$name" in
    tokio-tungstenite)
      port=$(free_port)
      "$wsprobe" serve --mode tungstenite-echo --port "$port" > /dev/null & pids+=($!)
      wait_port "$port" ;;
    python-websockets-tls)
      # A certificate for 127.0.0.1 made here; wsprobe trusts exactly it (--ca).
      # A server certificate (CA:FALSE: webpki refuses a CA certificate as the server's own).
      printf '%s\n' '[req]' 'distinguished_name=dn' 'x509_extensions=ext' 'prompt=no' \
        '[dn]' 'CN=127.0.0.1' '[ext]' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
        'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
        'extendedKeyUsage=serverAuth' > "$work/tls.cnf"
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -config "$work/tls.cnf" -keyout "$work/tls.key" -out "$work/tls.crt" 2> "$work/openssl.log"
      rm -f "$work/$name.port"
      python3 "$root/interop/peers/websockets-echo.py" "$work/$name.port" tls "$work/tls.crt" \
        "$work/tls.key" 2> "$work/$name.log" & pids+=($!)
      wait_file "$work/$name.port"
      port=$(cat "$work/$name.port")
      peer_args=(--ca "$work/tls.crt")
      peer_url="wss://127.0.0.1:$port/"
      return 0 ;;
    python-websockets|aiohttp|tornado|python-websockets-deflate|aiohttp-deflate|tornado-deflate)
      local script mode=""
      case "$name" in
        python-websockets*) script=websockets-echo.py ;;
        aiohttp*) script=aiohttp-echo.py ;;
        tornado*) script=tornado-echo.py ;;
      esac
      case "$name" in
        *-deflate) mode=deflate; peer_args=("${DEFLATE_SUITES[@]}" "${DEFLATE_SMALL[@]}") ;;
      esac
      rm -f "$work/$name.port"
      python3 "$root/interop/peers/$script" "$work/$name.port" $mode 2> "$work/$name.log" & pids+=($!)
      wait_file "$work/$name.port"
      port=$(cat "$work/$name.port") ;;
    node-ws|websocket-node|node-ws-deflate)
      local script=ws-echo.js mode=""
      [ "$name" = websocket-node ] && script=websocket-node-echo.js
      if [ "$name" = node-ws-deflate ]; then mode=deflate; peer_args=("${DEFLATE_SUITES[@]}"); fi
      rm -f "$work/$name.port"
      NODE_PATH="$root/interop/node/node_modules" node "$root/interop/peers/$script" "$work/$name.port" \
        $mode 2> "$work/$name.log" & pids+=($!)
      wait_file "$work/$name.port"
      port=$(cat "$work/$name.port") ;;
    websocketd-counter)
      port=$(free_port)
      websocketd --address=127.0.0.1 --port="$port" --loglevel=fatal "$root/fixtures/count.sh" \
        2> "$work/$name.log" & pids+=($!)
      wait_port "$port"
      peer_args=("$root/suites/examples/counter.yaml") ;;
    websocketd-echo)
      port=$(free_port)
      websocketd --address=127.0.0.1 --port="$port" --loglevel=fatal "$root/interop/peers/echo.sh" \
        2> "$work/$name.log" & pids+=($!)
      wait_port "$port"
      # Binary echoes of the window-bits cases go through the same text relay.
      peer_args=(--exclude 'limits.*' --exclude 'deflate.negotiation.server-window-*') ;;
    *)
      echo "interop: unknown peer '$name' (known: ${ALL_PEERS[*]})" >&2
      return 2 ;;
  esac
  peer_url="ws://127.0.0.1:$port/"
}

# interop_begin [PEER...]: a scratch directory removed on exit, the peer processes stopped on
# exit, and `peers`: the named peers, or every peer when none is named (an unknown name exits 2).
interop_begin() {
  work="$(mktemp -d)"
  pids=()
  trap interop_cleanup EXIT
  peers=("$@")
  [ ${#peers[@]} -eq 0 ] && peers=("${ALL_PEERS[@]}")
  local p
  for p in "${peers[@]}"; do
    case " ${ALL_PEERS[*]} " in
      *" $p "*) ;;
      *) echo "interop: unknown peer '$p' (known: ${ALL_PEERS[*]})" >&2; exit 2 ;;
    esac
  done
}

# stop_peers: stops every peer started so far.
stop_peers() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

interop_cleanup() {
  stop_peers
  rm -rf "$work"
}

# check_peer PEER EXPECTED OUT.jsonl ARGS...: one "$wsprobe" run judged by `run --expect` against
# EXPECTED (with --record: rewritten from the run by --expect-update). The JSON Lines report goes
# to OUT (flips.py compares repeats), the text report beside it (.txt). The differences, if any,
# are printed. Returns 1 on a difference, 2 when wsprobe could not judge at all.
check_peer() {
  local peer="$1" expected="$2" out="$3"; shift 3
  local log="${out%.jsonl}.txt" code=0 mode=(--expect "$expected")
  $record && mode+=(--expect-update)
  "$wsprobe" run "$@" "${mode[@]}" --report "json=$out" -q --color never > "$log" 2> "${out%.jsonl}.err" || code=$?
  if [ "$code" -ge 2 ]; then
    echo "interop: wsprobe judging $peer exited $code:"; cat "${out%.jsonl}.err" "$log"; return 2
  fi
  sed -n '/^Differences from /,/^expectations:/{s/^/'"$peer"': /;p}' "$log"
  grep -h '^expectations: \(matches\|wrote\)' "$log" | sed "s/^/$peer: /"
  return "$code"
}
