#!/bin/sh
# Hub ingest benchmark: a local nats-server (JetStream, file storage) is filled with the events
# of the synthetic capture, published COPIES times by `vedette analyze --export` (a distinct
# sensor name each time, so every event has its own id); then `vedette hub --drain` moves them
# into a fresh store and the script prints events/s and the hub's split of time between NATS
# (fetch) and the store (ingest + commit). The stored count must equal the published count.
# Env: VEDETTE_SHARED (default ../shared beside the repo), COPIES (default 10),
#      BATCH (hub.batch, default 5000), WORK (scratch dir, default a temp dir).
set -eu
cd "$(dirname "$0")/.."
SHARED=${VEDETTE_SHARED:-$(pwd)/../shared}
COPIES=${COPIES:-10}
BATCH=${BATCH:-5000}
WORK=${WORK:-$(mktemp -d)}
pcap=$SHARED/data/pcap/synthetic-small.pcap
rules=$SHARED/data/rules/synthetic-small.rules
[ -f "$pcap" ] || { echo "bench-hub: $pcap not found (set VEDETTE_SHARED)" >&2; exit 1; }
sh scripts/install-test-deps.sh nats
cargo build --release -q -p vedette
bin=$(pwd)/target/release/vedette
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=nats://127.0.0.1:$port
mkdir -p "$WORK/js"
nats-server -a 127.0.0.1 -p "$port" -js -sd "$WORK/js" >"$WORK/nats.log" 2>&1 &
nats_pid=$!
trap 'kill "$nats_pid" 2>/dev/null; wait "$nats_pid" 2>/dev/null' EXIT INT TERM
python3 - "$port" <<'PY'
import socket, sys, time
deadline = time.time() + 20
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("bench-hub: nats-server did not start")
        time.sleep(0.1)
PY
i=0
published=0
while [ "$i" -lt "$COPIES" ]; do
  "$bin" analyze -k none --no-store --rules "$rules" --output-dir "$WORK/s$i" \
    --export "$url" --sensor "bench-$i" "$pcap" 2>"$WORK/s$i.log"
  n=$(wc -l < "$WORK/s$i/eve.json")
  published=$((published + n))
  grep -q ' 0 left in spool' "$WORK/s$i.log" || { echo "bench-hub: sensor $i did not deliver everything:" >&2; cat "$WORK/s$i.log" >&2; exit 1; }
  i=$((i + 1))
done
rm -rf "$WORK/store"
start=$(date +%s.%N)
"$bin" hub --drain --nats "$url" --store "$WORK/store" --set "hub.batch=$BATCH" 2>"$WORK/hub.log"
end=$(date +%s.%N)
stored=$("$bin" query "select count(*) as n from events" --format csv --store "$WORK/store" | tail -n 1)
if [ "$stored" != "$published" ]; then
  echo "bench-hub: stored $stored events, published $published" >&2
  cat "$WORK/hub.log" >&2
  exit 1
fi
awk -v n="$published" -v s="$start" -v e="$end" 'BEGIN {
  t = e - s
  printf "hub: %d events from NATS into the store in %.2f s: %.0f events/s\n", n, t, n / t
}'
cat "$WORK/hub.log"
