#!/usr/bin/env bash
# Trace determinism: for each peer, records every built-in case's canonical trace once
# (`wsprobe run --snapshots DIR --update`) and then checks the same server N times against it
# (`--snapshots DIR --check`). A canonical trace must not depend on timing, so every check must
# pass; the first differing case of a failing check is shown with its diff. Exit 1 on any
# difference.
#
#   interop/traces.sh N [PEER...]     # default: every peer of interop/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

n="${1:-}"
case "$n" in ''|*[!0-9]*|0) echo "usage: interop/traces.sh N [PEER...]" >&2; exit 2 ;; esac
shift

# shellcheck source=interop/peers.sh
. "$root/interop/peers.sh"
interop_begin "$@"

install_peers
cargo build --release --locked -q
wsprobe="$root/target/release/wsprobe"

status=0
for peer in "${peers[@]}"; do
  start_peer "$peer"
  snaps="$work/$peer.snapshots"
  set +e
  timeout 900 "$wsprobe" run "${peer_args[@]}" --target "$peer_url" --color never --format json \
    --snapshots "$snaps" --update > /dev/null 2> "$work/$peer.update.err"
  set -e
  bad=0
  for i in $(seq "$n"); do
    set +e
    timeout 900 "$wsprobe" run "${peer_args[@]}" --target "$peer_url" --color never \
      --snapshots "$snaps" --check > "$work/$peer.check.$i" 2>&1
    code=$?
    set -e
    # Exit 1 also means a failing verdict; a snapshot difference is reported as a diff.
    if grep -q '^snapshot \(mismatch\|pending\)' "$work/$peer.check.$i"; then
      bad=$((bad + 1))
      if [ "$bad" -eq 1 ]; then
        echo "interop: $peer: check $i differs from the recorded traces (exit $code):"
        grep -A25 -m1 '^snapshot \(mismatch\|pending\)' "$work/$peer.check.$i" | head -40
      fi
    fi
  done
  echo "$peer: $n checks, $bad with trace differences"
  [ "$bad" -eq 0 ] || status=1
  stop_peers
done
exit $status
