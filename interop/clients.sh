#!/usr/bin/env bash
# Interop, client role: wsprobe judges real third-party WebSocket *clients* through Autobahn's
# fuzzing-server URL protocol (`wsprobe run --client --exec HARNESS`) and checks the verdicts
# against the reviewed expectations in interop/expected/clients/. The harnesses
# (examples/autobahn_client.rs, interop/clients/) are written to Autobahn's protocol only, not to
# wsprobe's; `chromium` runs the page wsprobe serves at /browser in headless Chromium, and
# `chromium-http2` the same page over TLS with `run --client --tls --http2`, where Chromium opens
# each WebSocket as an extended CONNECT on the page's HTTP/2 connection (RFC 8441); the script
# checks that every case ran over HTTP/2.
#
#   interop/clients.sh               # check every client once
#   interop/clients.sh --record      # rewrite expected/clients/*.yaml with --expect-update (review the diff!)
#   interop/clients.sh [...] PEER... # only the named clients (tokio-tungstenite-client,
#                                    # python-websockets-client, node-ws-client, chromium,
#                                    # chromium-http2)
#
# Chromium's results are expectations like any peer's: a requirement it breaks is recorded with
# the reason, and the run fails only when a verdict changes.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

record=false
while [ $# -gt 0 ]; do
  case "$1" in
    --record) record=true; shift ;;
    --) shift; break ;;
    -*) echo "interop/clients.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done

CLIENT_PEERS=(tokio-tungstenite-client python-websockets-client node-ws-client chromium
              chromium-http2)
# A harness that stalls cannot hold the run beyond this (wsprobe's --run-timeout); cases it did
# not reach are ERROR and differ from the expectations.
RUN_BOUND=600s
# Each harness bounds itself a little earlier, so it always exits by itself and the run ends
# with "the client command exited" rather than wsprobe having to stop it.
HARNESS_BOUND=580s

# shellcheck source=interop/peers.sh
. "$root/interop/peers.sh"
interop_begin  # scratch directory, cleanup on exit; the client peers are checked here
clients=("$@")
[ ${#clients[@]} -eq 0 ] && clients=("${CLIENT_PEERS[@]}")
for c in "${clients[@]}"; do
  case " ${CLIENT_PEERS[*]} " in
    *" $c "*) ;;
    *) echo "interop: unknown client '$c' (known: ${CLIENT_PEERS[*]})" >&2; exit 2 ;;
  esac
done

install_peers  # the npm ws and PyPI websockets packages at their pinned versions
if [[ " ${clients[*]} " == *" chromium"* ]] && ! command -v chromium >/dev/null; then
  echo "interop: chromium is not installed (apt-get install chromium), or name the other clients" >&2
  exit 1
fi
cargo build --release --locked -q
cargo build --release --locked -q --example autobahn_client
wsprobe="$root/target/release/wsprobe"
mkdir -p interop/expected/clients

# harness_cmd PEER: the --exec command (run by `sh -c` with WSPROBE_URL set).
harness_cmd() {
  case "$1" in
    tokio-tungstenite-client)
      printf 'exec timeout -k 5 %s %q %q' "$HARNESS_BOUND" \
        "$root/target/release/examples/autobahn_client" "$1" ;;
    python-websockets-client)
      printf 'exec timeout -k 5 %s python3 %q %q' "$HARNESS_BOUND" \
        "$root/interop/clients/websockets_client.py" "$1" ;;
    node-ws-client)
      printf 'export NODE_PATH=%q; exec timeout -k 5 %s node %q %q' "$root/interop/node/node_modules" \
        "$HARNESS_BOUND" "$root/interop/clients/ws_client.js" "$1" ;;
    chromium)
      # The page's URL is the listener's with http://; headless, the page closes its window
      # after /updateReports, which ends the browser. `timeout` runs it in a process group of
      # its own whose id is the shell's pid, recorded so every Chromium process can be stopped
      # after the run whatever happened; the profile lives in the scratch directory.
      mkdir -p "$work/chromium-profile"
      printf 'echo $$ > %q; exec timeout -k 5 %s chromium --headless --no-sandbox --disable-gpu' \
        "$work/chromium.pgid" "$HARNESS_BOUND"
      printf ' --disable-dev-shm-usage'
      printf ' --no-first-run --no-default-browser-check --user-data-dir=%q' "$work/chromium-profile"
      printf ' "$(printf %%s "$WSPROBE_URL" | sed "s#^ws://#http://#")/browser?agent=chromium"'
      printf ' 2> %q' "$work/chromium.log" ;;
    chromium-http2)
      # The page comes over HTTP/2 (ALPN h2; wsprobe's certificate is self-signed, hence
      # --ignore-certificate-errors), so Chromium's wss:// WebSockets to the same origin are
      # extended CONNECTs on that connection.
      mkdir -p "$work/chromium-http2-profile"
      printf 'echo $$ > %q; exec timeout -k 5 %s chromium --headless --no-sandbox --disable-gpu' \
        "$work/chromium-http2.pgid" "$HARNESS_BOUND"
      printf ' --disable-dev-shm-usage --ignore-certificate-errors'
      printf ' --no-first-run --no-default-browser-check --user-data-dir=%q' "$work/chromium-http2-profile"
      printf ' "$(printf %%s "$WSPROBE_URL" | sed "s#^wss://#https://#")/browser?agent=chromium-http2"'
      printf ' 2> %q' "$work/chromium-http2.log" ;;
  esac
}

# The selection per client: every client-role case, but Chromium (which offers
# permessage-deflate) takes about 0.4 s per case, so of the 216 compression cases (12.x, 13.x)
# it runs the first five of 12.1 and 13.1 to stay near a minute.
client_args() {
  case "$1" in
    chromium|chromium-http2)
      [ "$1" = chromium-http2 ] && printf '%s\n' --tls --http2 --traces "$work/chromium-http2-traces"
      local g n
      for g in 12.2 12.3 12.4 12.5 13.2 13.3 13.4 13.5 13.6 13.7; do printf '%s\n' --exclude "$g.*"; done
      for g in 12.1 13.1; do
        for n in 6 7 8 9 '1?'; do printf '%s\n' --exclude "$g.$n"; done
      done ;;
  esac
}

# stop_group FILE: stops the process group whose id FILE holds (the harness's), if Chromium
# processes are still in it (checked first, so a group id reused since is left alone).
stop_group() {
  [ -s "$1" ] || return 0
  local pg
  pg=$(cat "$1")
  ps -eo pgid=,comm= | awk -v pg="$pg" '$1 == pg && $2 ~ /^chrom/ { f = 1 } END { exit !f }' \
    || return 0
  kill -s TERM -- "-$pg" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -s 0 -- "-$pg" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -s KILL -- "-$pg" 2>/dev/null || true
}

if [[ " ${clients[*]} " == *" chromium"* ]]; then
  echo "interop: $(chromium --version 2>/dev/null)"
fi
status=0
for peer in "${clients[@]}"; do
  out="$work/$peer.jsonl"
  t0=$(date +%s.%N)
  mapfile -t args < <(client_args "$peer")
  code=0
  check_peer "$peer" "interop/expected/clients/$peer.yaml" "$out" \
    --client --listen 127.0.0.1:0 --run-timeout "$RUN_BOUND" "${args[@]}" \
    --exec "$(harness_cmd "$peer")" || code=$?
  case "$peer" in chromium*) stop_group "$work/$peer.pgid" ;; esac
  wall=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)")
  echo "interop: $peer: ${wall} s wall"
  # Over HTTP/2 every case's request must have been an extended CONNECT: a browser that fell
  # back to HTTP/1.1 upgrades would otherwise pass unnoticed.
  if [ "$peer" = chromium-http2 ] && [ "$code" -lt 2 ]; then
    python3 - "$work/chromium-http2-traces" <<'PY' || code=1
import pathlib, re, sys
over = {"http2": 0, "http1": 0}
for trace in pathlib.Path(sys.argv[1]).glob("*.trace"):
    for line in trace.read_text(errors="replace").splitlines():
        if re.match(r"\s+c>s CONNECT \S+ HTTP/2$", line):
            over["http2"] += 1
        elif re.match(r"\s+c>s GET \S+ HTTP/1\.[01]$", line):
            over["http1"] += 1
print(f"interop: chromium-http2: {over['http2']} WebSockets over HTTP/2, {over['http1']} over HTTP/1.1")
sys.exit(0 if over["http2"] > 0 and over["http1"] == 0 else 1)
PY
  fi
  # The first line is the ws:// (or wss://) URL wsprobe listened on.
  if [ "$code" -lt 2 ] && ! head -n 1 "$work/$peer.txt" | grep -Eq '^wss?://'; then
    echo "interop: wsprobe judging $peer did not print its URL first:"; head -n 5 "$work/$peer.txt"; code=2
  fi
  [ "$code" -ne 0 ] && status=1
done

exit $status
