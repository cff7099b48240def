#!/usr/bin/env bash
# Peak RSS and wall time of `wsprobe run` with the default --jobs and --max-memory:
#   - 10,000 generated echo cases against the embedded server, written as 10,000 separate
#     entries (a 1.8 MB suite file) and as one template with 10,000 params rows;
#   - the Autobahn 9.x cases (16 MiB messages) and the whole built-in run, against the embedded
#     server and against a separate `wsprobe serve` process (so that only the client is measured).
# The hostile-server figures come from the tests themselves:
#   cargo test --release --test hostile -- --nocapture --test-threads 1
#
#   scripts/bench-memory.sh [WSPROBE_BINARY]     (default: a fresh release build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then
  bin="$1"
else
  cargo build --release --locked -q
  bin=target/release/wsprobe
fi
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work" << 'EOF'
import sys
work = sys.argv[1]
n = 10000
with open(f"{work}/separate.yaml", "w") as f:
    f.write("suite: many\ntitle: many small echo cases\ndefaults: { timeout: 5s }\ncases:\n")
    for i in range(n):
        f.write(f"  - id: many.echo-{i}\n    title: echo {i}\n    spec: RFC 6455 §5.6\n"
                f"    steps:\n      - connect: {{}}\n      - send: {{ text: hello-{i} }}\n"
                f"      - expect: {{ message: {{ text: hello-{i} }} }}\n")
with open(f"{work}/template.yaml", "w") as f:
    f.write("suite: manyp\ntitle: many small echo cases from one template\n"
            "defaults: { timeout: 5s }\ncases:\n  - id: 'manyp.echo-{i}'\n    title: 'echo {i}'\n"
            "    spec: RFC 6455 §5.6\n    params:\n")
    for i in range(n):
        f.write(f"      - {{ i: {i} }}\n")
    f.write("    steps:\n      - connect: {}\n      - send: { text: 'hello-{i}' }\n"
            "      - expect: { message: { text: 'hello-{i}' } }\n")
EOF

measure() { # label args...
  local label="$1"; shift
  local code=0
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin" run --color never "$@" > "$work/out" 2> /dev/null || code=$?
  read -r secs kib < "$work/time"
  printf '%-44s exit %d  %6.2f s  peak RSS %6.1f MB  %s\n' "$label" "$code" "$secs" \
    "$(echo "$kib * 1024 / 1000000" | bc -l)" "$(grep -E '^[0-9]+ cases?:' "$work/out" | cut -d' ' -f1-7 || true)"
}

echo "$bin, $(nproc) cores"
measure "10,000 echo cases (separate entries)" "$work/separate.yaml"
measure "10,000 echo cases (one template)" "$work/template.yaml"
measure "Autobahn 9.x, embedded server" --case '9.*'
measure "whole built-in run, embedded server"
"$bin" serve --port 0 > "$work/serve" 2>&1 &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/serve" ] && break; sleep 0.1; done
url=$(head -1 "$work/serve")
measure "Autobahn 9.x, separate server" --case '9.*' --target "$url"
measure "whole built-in run, separate server" --target "$url"
