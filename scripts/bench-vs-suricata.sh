#!/usr/bin/env bash
# Single-thread throughput benchmark: vedette vs Suricata 7, both without signatures, on a big
# synthetic capture (synthetic-small.pcap replicated COPIES times with distinct flows).
#
# Usage: scripts/bench-vs-suricata.sh            (from anywhere; works relative to the repo root)
# Env:
#   VEDETTE_SHARED  shared material dir                      (default: <repo>/../shared)
#   BENCH_DIR       work dir for the capture and outputs     (default: <repo>/target/bench)
#   COPIES          copies of synthetic-small in big.pcap    (default: 120, ~1.5 GB)
#   BIG_PCAP        use this capture instead of generating big.pcap
#   REPEATS         runs per engine; best wall time is kept  (default: 3)
#   VEDETTE_BIN     vedette binary; "skip" = Suricata only   (default: cargo build --release,
#                   target/release/vedette; skipped with a warning if the build makes no binary)
#   VEDETTE_ARGS    extra arguments for `vedette analyze`
#   SURICATA_CONF   Suricata config (default: /etc/suricata/suricata.yaml, default EVE logging)
#   SURICATA_ARGS   extra Suricata arguments, e.g. "--set stream.reassembly.depth=0"
#   RULES           rule file for both engines (default: none; e.g.
#                   ../shared/data/rules/synthetic-large.rules for the 20k-rule benchmark)
#
# Commands timed (GNU time: wall, user+sys CPU, peak RSS):
#   vedette analyze BIG --workers 1 --output-dir OUT -k none --no-store
# (both engines write the same kind of output, eve.json; the store has its own benchmark,
# scripts/bench-ingest.sh)
#   suricata -c CONF -r BIG -k none --runmode single -l OUT -S /dev/null
# `-S /dev/null` loads no rules (Suricata warns "no rules were loaded" and runs on); with RULES
# set, vedette gets `--rules RULES` and Suricata `-S RULES`.
# Outputs of the last run of each engine stay in BENCH_DIR/out-{vedette,suricata}/.
set -euo pipefail

script_dir=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$script_dir/.." && pwd)
cd "$ROOT"
SHARED=${VEDETTE_SHARED:-$script_dir/../../shared}
BENCH_DIR=${BENCH_DIR:-target/bench}
COPIES=${COPIES:-120}
REPEATS=${REPEATS:-3}
SURICATA_CONF=${SURICATA_CONF:-/etc/suricata/suricata.yaml}
read -r -a suricata_extra <<<"${SURICATA_ARGS:-}"
read -r -a vedette_extra <<<"${VEDETTE_ARGS:-}"
RULES=${RULES:-}
suricata_rules=/dev/null
if [[ -n $RULES ]]; then
  [[ -f $RULES ]] || { echo "bench: error: RULES=$RULES not found" >&2; exit 1; }
  RULES=$(cd "$(dirname "$RULES")" && pwd)/$(basename "$RULES")
  suricata_rules=$RULES
  vedette_extra+=(--rules "$RULES")
fi

die() { echo "bench: error: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

[[ $REPEATS =~ ^[1-9][0-9]*$ ]] || die "REPEATS must be a positive integer"
[[ $COPIES =~ ^[1-9][0-9]*$ ]] || die "COPIES must be a positive integer"
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)

# ---- (a) dependencies -------------------------------------------------------------------------
"$script_dir/install-test-deps.sh" suricata time || die "could not install Suricata / GNU time"
[[ -f $SURICATA_CONF ]] || die "Suricata config $SURICATA_CONF not found"
command -v python3 >/dev/null || die "python3 is required"

ensure_gen_deps() {
  python3 -c 'import scapy.all, cryptography' >/dev/null 2>&1 && return 0
  say "installing scapy + cryptography for $(command -v python3)"
  python3 -m pip install -q scapy cryptography >/dev/null 2>&1 || true
  if ! python3 -c 'import scapy.all, cryptography' >/dev/null 2>&1; then
    apt-get install -y -qq python3-scapy python3-cryptography >/dev/null 2>&1 || true
  fi
  python3 -c 'import scapy.all, cryptography' >/dev/null 2>&1 \
    || die "python3 cannot import scapy and cryptography (pip install scapy cryptography)"
}

# pcap_stats FILE -> "PACKETS BYTES" (sum of captured lengths), classic pcap or pcapng.
pcap_stats() {
  python3 - "$1" <<'EOF' || { command -v capinfos >/dev/null && capinfos -T -r -M -c -d "$1" | awk -F'\t' '{print $2, $3}'; }
import struct, sys
with open(sys.argv[1], "rb") as f:
    magic = f.read(4)
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        hdr = struct.Struct("<IIII")
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        hdr = struct.Struct(">IIII")
    else:
        sys.exit(1)  # pcapng or unknown: caller falls back to capinfos
    f.seek(24)
    n = total = 0
    read, seek, unpack = f.read, f.seek, hdr.unpack
    while True:
        h = read(16)
        if len(h) < 16:
            break
        incl = unpack(h)[2]
        seek(incl, 1)
        n += 1
        total += incl
print(n, total)
EOF
}

# ---- (b) the big capture, generated once --------------------------------------------------------
small=$SHARED/data/pcap/synthetic-small.pcap
if [[ -n ${BIG_PCAP:-} ]]; then
  BIG=$BIG_PCAP
  [[ -s $BIG ]] || die "BIG_PCAP=$BIG does not exist"
  meta=$BENCH_DIR/$(basename "$BIG").meta
  key="src=$(cd "$(dirname "$BIG")" && pwd)/$(basename "$BIG") size=$(stat -c %s "$BIG") mtime=$(stat -c %Y "$BIG")"
else
  BIG=$BENCH_DIR/big.pcap
  meta=$BIG.meta
  [[ -s $small ]] || die "$small not found (set VEDETTE_SHARED)"
  key="copies=$COPIES small_size=$(stat -c %s "$small")"
  if [[ ! -s $BIG || ! -s $meta ]] || [[ $(head -1 "$meta") != "$key" ]]; then
    ensure_gen_deps
    rm -f "$BIG" "$meta"
    say "generating $BIG ($COPIES copies of synthetic-small.pcap) ..."
    t0=$(date +%s.%N)
    python3 "$SHARED/tools/gen_pcaps.py" big "$small" "$BIG.tmp" --copies "$COPIES" \
      || { rm -f "$BIG.tmp"; die "gen_pcaps.py big failed"; }
    mv "$BIG.tmp" "$BIG"
    say "generated in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s," \
      "$(du -h "$BIG" | cut -f1)"
  fi
fi
if [[ ! -s $meta ]] || [[ $(head -1 "$meta") != "$key" ]]; then
  stats=$(pcap_stats "$BIG") || die "cannot read packet statistics of $BIG"
  printf '%s\n%s\n' "$key" "$stats" >"$meta"
fi
read -r PKTS BYTES < <(sed -n 2p "$meta")
[[ ${PKTS:-0} -gt 0 ]] || die "no packets in $BIG (stale $meta? delete it)"

# ---- (c) runs ---------------------------------------------------------------------------------
# measure NAME OUTDIR CMD...: run CMD REPEATS times in a fresh OUTDIR, append
# "NAME wall user sys maxrss_kb" lines to $results. Aborts on the first failing run.
results=$BENCH_DIR/results.txt
: >"$results"
measure() {
  local name=$1 out=$2 i tf
  shift 2
  tf=$BENCH_DIR/time.$name
  for ((i = 1; i <= REPEATS; i++)); do
    rm -rf "$out"
    mkdir -p "$out"
    sync # flush the previous run's output so its write-back does not land in this run
    if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$out.log" 2>&1; then
      echo "bench: error: $name run $i failed: $*" >&2
      tail -n 30 "$out.log" >&2
      cat "$tf" >&2 2>/dev/null || true
      exit 1
    fi
    echo "$name $(tail -n 1 "$tf")" >>"$results"
    say "$name run $i/$REPEATS: $(tail -n 1 "$tf") (wall user sys maxrssKB)"
  done
  [[ -s $out/eve.json ]] || die "$name wrote no $out/eve.json (log: $out.log)"
}

vedette=${VEDETTE_BIN:-}
if [[ $vedette != skip ]]; then
  if [[ -z $vedette ]]; then
    command -v cargo >/dev/null || die "cargo not found (or set VEDETTE_BIN=skip)"
    say "cargo build --release ..."
    cargo build --release -q || die "cargo build --release failed (VEDETTE_BIN=skip runs Suricata only)"
    vedette=$ROOT/target/release/vedette
    if [[ ! -x $vedette ]]; then
      say "warning: $vedette not built yet; running the Suricata side only"
      vedette=skip
    fi
  else
    [[ -x $vedette ]] || die "VEDETTE_BIN=$vedette is not executable"
  fi
fi

say "warming the page cache with $BIG"
cat "$BIG" >/dev/null

suri_version=$(suricata -V 2>&1 | head -n 1)
if [[ $vedette != skip ]]; then
  measure vedette "$BENCH_DIR/out-vedette" \
    "$vedette" analyze "$BIG" --workers 1 --output-dir "$BENCH_DIR/out-vedette" -k none --no-store "${vedette_extra[@]}"
fi
measure suricata "$BENCH_DIR/out-suricata" \
  suricata -c "$SURICATA_CONF" -r "$BIG" -k none --runmode single -l "$BENCH_DIR/out-suricata" \
  -S "$suricata_rules" "${suricata_extra[@]}"

# ---- (d) report -------------------------------------------------------------------------------
echo
echo "capture:  $BIG  ($PKTS packets, $BYTES packet bytes, $(du -h "$BIG" | cut -f1) on disk)"
echo "suricata: $suri_version  (config $SURICATA_CONF, no rules, --runmode single)"
if [[ $vedette != skip ]]; then echo "vedette:  $vedette  (--workers 1)"; fi
echo "runs:     $REPEATS per engine; best = lowest wall time"
echo
python3 - "$results" "$PKTS" "$BYTES" "$BENCH_DIR" <<'EOF'
import json, os, re, sys
results, pkts, nbytes, bench = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
runs = {}
for line in open(results):
    name, wall, user, sys_, rss = line.split()
    runs.setdefault(name, []).append((float(wall), float(user) + float(sys_), int(rss)))
flow_re = re.compile(rb'"event_type"\s*:\s*"flow"')

def eve_scan(path):
    """(flow event count, last stats event or None)"""
    flows, last_stats = 0, None
    with open(path, "rb") as f:
        for line in f:
            if flow_re.search(line):
                flows += 1
            elif b'"event_type":"stats"' in line:
                last_stats = line
    return flows, (json.loads(last_stats) if last_stats else None)

rows, summary, stats = [], {}, {}
for name in ("vedette", "suricata"):
    if name not in runs:
        continue
    best = min(runs[name])
    wall, cpu = best[0], best[1]
    rss = max(r[2] for r in runs[name]) / 1024.0
    flows, st = eve_scan(os.path.join(bench, "out-" + name, "eve.json"))
    stats[name] = st
    w = max(wall, 1e-9)
    summary[name] = dict(wall=wall, cpu=cpu, gbps=nbytes * 8 / w / 1e9, mpps=pkts / w / 1e6, rss=rss, flows=flows)
    walls = sorted(r[0] for r in runs[name])
    med = walls[len(walls) // 2] if len(walls) % 2 else (walls[len(walls) // 2 - 1] + walls[len(walls) // 2]) / 2
    rows.append((name, f"{wall:.2f}", f"{med:.2f}", f"{cpu:.2f}", f"{summary[name]['gbps']:.3f}",
                 f"{summary[name]['mpps']:.3f}", f"{rss:.0f}", str(flows)))
hdr = ("engine", "best wall s", "median wall s", "CPU s (best run)", "Gbps", "Mpps", "peak RSS MiB (max)", "flow events")
wid = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(hdr)]
fmt = lambda r: "  ".join(c.ljust(wid[0]) if i == 0 else c.rjust(wid[i]) for i, c in enumerate(r))
print(fmt(hdr))
for r in rows:
    print(fmt(r))
if "vedette" in summary and "suricata" in summary:
    v, s = summary["vedette"], summary["suricata"]
    print()
    print(f"vedette/suricata: throughput x{v['gbps'] / s['gbps']:.2f} (>1 = vedette faster), "
          f"CPU x{v['cpu'] / max(s['cpu'], 1e-9):.2f}, peak RSS x{v['rss'] / s['rss']:.2f}, "
          f"flow events {v['flows']} vs {s['flows']}"
          + ("" if v["flows"] == s["flows"] else "  <-- MISMATCH"))
st = stats.get("suricata")
if st:
    s = st["stats"]

    def g(*path):
        d = s
        for k in path:
            d = d.get(k) if isinstance(d, dict) else None
        return d
    keys = [("decoder", "pkts"), ("decoder", "bytes"), ("decoder", "invalid"), ("decoder", "ipv4"),
            ("decoder", "ipv6"), ("decoder", "tcp"), ("decoder", "udp"), ("flow", "total"), ("flow", "tcp"),
            ("flow", "udp"), ("flow", "icmpv4"), ("flow", "icmpv6"), ("tcp", "sessions")]
    print()
    print("suricata final stats (eve): " + ", ".join(
        f"{'.'.join(k)}={g(*k)}" for k in keys if g(*k) is not None))
    if g("decoder", "pkts") != pkts:
        print(f"WARNING: suricata decoder.pkts {g('decoder', 'pkts')} != capture packets {pkts}")
EOF
