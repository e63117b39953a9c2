#!/bin/sh
# Ingest benchmark: makes an EVE file from the synthetic capture (analysed once with its rules,
# then repeated COPIES times), ingests it into a fresh store and prints events/s. The stored
# event count must equal the file's line count, so a fast wrong answer fails.
# Env: VEDETTE_SHARED (default ../shared beside the repo), COPIES (default 20),
#      BATCH (store.batch_events, default 10000), WORK (scratch dir, default a temp dir).
set -eu
cd "$(dirname "$0")/.."
SHARED=${VEDETTE_SHARED:-$(pwd)/../shared}
COPIES=${COPIES:-20}
BATCH=${BATCH:-10000}
WORK=${WORK:-$(mktemp -d)}
pcap=$SHARED/data/pcap/synthetic-small.pcap
rules=$SHARED/data/rules/synthetic-small.rules
[ -f "$pcap" ] || { echo "bench-ingest: $pcap not found (set VEDETTE_SHARED)" >&2; exit 1; }
cargo build --release -q -p vedette
bin=target/release/vedette
"$bin" analyze -q -k none --no-store --rules "$rules" --output-dir "$WORK/one" "$pcap" 2>/dev/null
i=0
: > "$WORK/eve.json"
while [ "$i" -lt "$COPIES" ]; do cat "$WORK/one/eve.json" >> "$WORK/eve.json"; i=$((i + 1)); done
lines=$(wc -l < "$WORK/eve.json")
bytes=$(wc -c < "$WORK/eve.json")
rm -rf "$WORK/store"
start=$(date +%s.%N)
"$bin" ingest "$WORK/eve.json" --store "$WORK/store" --set "store.batch_events=$BATCH" 2>"$WORK/ingest.log"
end=$(date +%s.%N)
stored=$("$bin" query "select count(*) as n from events" --format csv --store "$WORK/store" | tail -n 1)
if [ "$stored" != "$lines" ]; then
  echo "bench-ingest: stored $stored events, the file has $lines lines" >&2
  exit 1
fi
db=$(wc -c < "$WORK/store/vedette.db")
awk -v l="$lines" -v b="$bytes" -v s="$start" -v e="$end" -v d="$db" 'BEGIN {
  t = e - s
  printf "ingest: %d events (%.1f MB of EVE) in %.2f s: %.0f events/s, %.1f MB/s; database %.1f MB\n", l, b / 1e6, t, l / t, b / 1e6 / t, d / 1e6
}'
cat "$WORK/ingest.log"
