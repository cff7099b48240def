# Sourced by interop/run.sh, interop/determinism.sh and interop/traces.sh: installs the
# third-party peers at pinned versions and starts one by name. Expects $root (the repository);
# interop_begin sets up $work (a scratch directory), the `pids` array of processes stopped on
# exit, and the `peers` to use.

WS_VERSION=8.23.0               # npm ws
WEBSOCKET_NODE_VERSION=1.0.35   # npm websocket (WebSocket-Node)
WEBSOCKETS_VERSION=17.4         # PyPI websockets
AIOHTTP_VERSION=3.14.5          # PyPI aiohttp
TORNADO_VERSION=6.6.1           # PyPI tornado
# axum: interop/peers/axum-echo/Cargo.lock pins axum 0.8.9 (hyper 1.13.0, h2 0.4.21,
# tungstenite 0.29.0); install_peers builds it with `cargo build --release --locked`.
AXUM_ECHO="$root/interop/peers/axum-echo"
HYPERCORN_VERSION=0.18.0        # PyPI hypercorn (h11, h2 4.x, wsproto); by name only, below

ALL_PEERS=(tokio-tungstenite python-websockets node-ws websocketd-counter websocketd-echo
           aiohttp tornado websocket-node
           python-websockets-deflate node-ws-deflate aiohttp-deflate tornado-deflate
           python-websockets-tls axum axum-http2 node-ws-http2)
# Peers run only when named (interop/run.sh hypercorn hypercorn-http2), not by CI's run of
# ALL_PEERS: hypercorn over HTTP/2 never ends a WebSocket's stream when the client closed it or
# broke the protocol (see interop/expected/hypercorn-http2.yaml), so most of its cases end on
# wsprobe's 2 s close timeout: a minute and a half per run, for verdicts that say the same thing
# each time.
NAMED_PEERS=(hypercorn hypercorn-http2)

# expected_for PEER: the expectations file a peer is judged against. Over TLS a peer must give
# exactly the verdicts it gives over TCP, so it shares that peer's file. Over HTTP/2 (RFC 8441,
# `run --http2`) likewise: the Autobahn 1-10 cases must get the verdicts they get over HTTP/1.1
# on the same server (issue 16), so `axum-http2` is judged against axum.yaml. That one file
# holds three kinds of lines: the cases both transports run (one verdict, shared), the
# `http1`-tagged handshake cases (only the HTTP/1.1 run selects them) and the `http2`-tagged
# extended CONNECT cases (only the `--http2` run selects them); a listed case a run does not
# select is not compared (docs/expectations.md), so each run checks exactly its own lines.
# `--record axum axum-http2` writes the file in that order: the HTTP/2 run adds its
# http2-only lines, and a shared case whose HTTP/2 verdict differs gets rewritten, which the
# HTTP/1.1 check then reports: such a difference is a finding to explain, not to record.
expected_for() {
  case "$1" in
    # Its HTTP/2 verdicts differ from its HTTP/1.1 ones (findings, explained in the file).
    hypercorn-http2) echo "$1" ;;
    *-tls) echo "${1%-tls}" ;;
    *-http2) echo "${1%-http2}" ;;
    *) echo "$1" ;;
  esac
}

# records_shared PEER: whether `--record` may rewrite the file PEER shares with another peer
# (the *-http2 peers add their transport's own cases to it; the *-tls peers add nothing).
# node-ws-http2 (Node's http2 module, h2c only, with ws on each extended CONNECT stream) is
# judged against node-ws.yaml the same way.
records_shared() {
  case "$1" in
    hypercorn-http2) return 1 ;;
    *-http2) return 0 ;;
    *) return 1 ;;
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
  # The axum echo is compiled only when an axum peer runs (about a minute from clean on two
  # cores, from the crates registry; cargo rebuilds nothing when the binary is up to date).
  case " ${peers[*]:-} " in
    *" axum "*|*" axum-http2 "*) build_axum_echo ;;
  esac
  case " ${peers[*]:-} " in
    *" hypercorn"*) pip_pinned hypercorn "$HYPERCORN_VERSION" ;;
  esac
}

build_axum_echo() {
  local bin="$AXUM_ECHO/target/release/axum-echo"
  # Up to date: built after every file it is made from (cargo would agree, after a look at
  # the registry index it may not need).
  if [ -x "$bin" ] && [ -z "$(find "$AXUM_ECHO/Cargo.toml" "$AXUM_ECHO/Cargo.lock" "$AXUM_ECHO/src" \
      -newer "$bin" -print -quit)" ]; then
    return 0
  fi
  (cd "$AXUM_ECHO" && CARGO_TARGET_DIR="$AXUM_ECHO/target" cargo build --release --locked -q)
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
    axum|axum-http2)
      # One server for both: hyper-util serves HTTP/1.1 upgrades and, on a connection that
      # starts with the HTTP/2 preface (h2c, prior knowledge), extended CONNECT.
      # Over HTTP/2 four cases are left out, a known HTTP/1.1-versus-HTTP/2 difference
      # (interop/expected/axum.yaml lists their HTTP/1.1 verdicts):
      # - 9.5.1, 9.5.2, 9.6.1, 9.6.2 write a 1 MiB frame in 64- and 128-byte chops, which
      #   `run --http2` sends as one DATA frame each (8192-16384 frames). The h2 crate under
      #   hyper charges every DATA frame under 256 bytes against a flood budget (half the
      #   1 MiB connection window) until the application reads it; when the echo task falls
      #   behind the connection task, the budget runs out and the server sends GOAWAY
      #   ENHANCE_YOUR_CALM "too_many_data_frames" (NON-STRICT, connection reset). Whether it
      #   does depends on scheduling: PASS or NON-STRICT from run to run. RFC 9113 §10.5 lets
      #   a server treat such traffic as abuse, so the case cannot judge it over HTTP/2.
      [ "$name" = axum-http2 ] && peer_args=(--http2
        --exclude limits.text-1mib-chops-64b --exclude limits.text-1mib-chops-128b
        --exclude limits.binary-1mib-chops-64b --exclude limits.binary-1mib-chops-128b)
      rm -f "$work/$name.port"
      "$AXUM_ECHO/target/release/axum-echo" "$work/$name.port" 2> "$work/$name.log" & pids+=($!)
      wait_file "$work/$name.port"
      port=$(cat "$work/$name.port") ;;
    node-ws-http2)
      # HTTP/2 only (Node's h2c server does not answer HTTP/1.1).
      peer_args=(--http2)
      rm -f "$work/$name.port"
      NODE_PATH="$root/interop/node/node_modules" node "$root/interop/peers/ws-http2-echo.js" \
        "$work/$name.port" 2> "$work/$name.log" & pids+=($!)
      wait_file "$work/$name.port"
      port=$(cat "$work/$name.port") ;;
    hypercorn|hypercorn-http2)
      # One server for both transports, like axum. Left out: the 9.x performance cases and
      # Autobahn 12.x/13.x (hypercorn negotiates permessage-deflate), which move gigabytes
      # through a Python echo and would end on timeouts, judging its speed, not the RFCs.
      peer_args=(--exclude 'limits.*' --exclude 'deflate.autobahn.*')
      [ "$name" = hypercorn-http2 ] && peer_args+=(--http2)
      port=$(free_port)
      python3 "$root/interop/peers/hypercorn-echo.py" "$port" 2> "$work/$name.log" & pids+=($!)
      wait_port "$port" ;;
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
      echo "interop: unknown peer '$name' (known: ${ALL_PEERS[*]} ${NAMED_PEERS[*]})" >&2
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
    case " ${ALL_PEERS[*]} ${NAMED_PEERS[*]} " in
      *" $p "*) ;;
      *) echo "interop: unknown peer '$p' (known: ${ALL_PEERS[*]} ${NAMED_PEERS[*]})" >&2; exit 2 ;;
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
