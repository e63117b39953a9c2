#!/bin/sh
# Live-capture benchmark (not a test): the highest tcpreplay rate that `vedette live` takes with
# zero kernel drops, for 1 and 2 workers. Replays a capture in a loop into one end of a veth pair
# in a private network namespace and captures on the other end; first at top speed, then at
# --pps steps going down until a run has no drops. Prints packets/s and bits/s as tcpreplay
# achieved them, and checks that every packet sent was seen (kernel_packets == sent).
#
# tcpreplay itself tops out well below what vedette takes (it sends one packet per system call),
# so a second phase measures vedette's own capacity: vedette is stopped (SIGSTOP), a burst that
# fits its rings is replayed, and after SIGCONT the time and CPU time it takes to empty the rings
# give packets per second (wall clock, all workers) and per CPU-second (one core's capacity).
#
# Needs root (network namespace, AF_PACKET) and tcpreplay (scripts/install-test-deps.sh
# tcpreplay). On a veth pair the sender's CPU also runs the receive path, so tcpreplay and the
# kernel compete with vedette for the same cores: the numbers are a floor for a real NIC.
#
# Env: PCAP (default $VEDETTE_SHARED/data/pcap/synthetic-small.pcap), LOOP (replays of the
#      file per run, default 40), WORKERS (default "1 2"), RULES (rule file, default none),
#      STEPS (--pps steps tried after a top-speed run with drops, highest first),
#      VEDETTE (binary, default target/release/vedette, built when missing),
#      DRAIN_LOOP (replays of the file in the drain phase, default 24: about 420 MiB of ring
#      slots for this file, which must fit one worker's 512 MiB ring; drops are reported).
set -eu
cd "$(dirname "$0")/.."
SHARED=${VEDETTE_SHARED:-../shared}
PCAP=${PCAP:-$SHARED/data/pcap/synthetic-small.pcap}
LOOP=${LOOP:-40}
WORKERS=${WORKERS:-"1 2"}
RULES=${RULES:-}
STEPS=${STEPS:-"2000000 1500000 1200000 1000000 800000 600000 400000 300000 200000 100000"}
VEDETTE=${VEDETTE:-target/release/vedette}
DRAIN_LOOP=${DRAIN_LOOP:-24}
NS=vedette-bench-$$
OUT=$(mktemp -d)

[ "$(id -u)" = 0 ] || { echo "bench-live: needs root (network namespace, AF_PACKET)" >&2; exit 1; }
command -v tcpreplay >/dev/null || sh scripts/install-test-deps.sh tcpreplay
[ -x "$VEDETTE" ] || cargo build --release -p vedette
[ -f "$PCAP" ] || { echo "bench-live: $PCAP not found (set PCAP or VEDETTE_SHARED)" >&2; exit 1; }

cleanup() {
  [ -n "${VPID:-}" ] && kill "$VPID" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$OUT"
}
trap cleanup EXIT INT TERM

ip netns add "$NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link add va mtu 9000 type veth peer name vb mtu 9000
ip -n "$NS" link set va up
ip -n "$NS" link set vb up

field() { # field NAME FILE: a number from the last stats event
  grep '"event_type":"stats"' "$2" | tail -1 | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2
}

# run WORKERS RATE-ARGS...: one capture run; sets SENT SEEN DROPS PPS MBPS
run() {
  w=$1
  shift
  rm -rf "$OUT/eve"
  set -- "$@"
  rule_args=""
  [ -n "$RULES" ] && rule_args="-S $RULES"
  # shellcheck disable=SC2086 # rule_args is empty or two words
  ip netns exec "$NS" "$VEDETTE" live -i vb --workers "$w" --output-dir "$OUT/eve" -k none -q \
    --set capture.live.stats_interval_secs=0 $rule_args 2>"$OUT/err" &
  VPID=$!
  i=0
  until grep -q "capturing on vb" "$OUT/err" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 600 ] || { cat "$OUT/err" >&2; exit 1; }
    sleep 0.05
  done
  ip netns exec "$NS" tcpreplay -i va --preload-pcap --loop "$LOOP" "$@" "$PCAP" >"$OUT/replay" 2>&1
  SENT=$(grep -o 'Successful packets: *[0-9]*' "$OUT/replay" | grep -o '[0-9]*$')
  PPS=$(grep -o 'Rated: .*' "$OUT/replay" | head -1 | sed 's/.*Mbps, \([0-9.]*\) pps.*/\1/')
  MBPS=$(grep -o 'Rated: .*' "$OUT/replay" | head -1 | sed 's/.*Bps, \([0-9.]*\) Mbps.*/\1/')
  kill -INT "$VPID"
  wait "$VPID" || { cat "$OUT/err" >&2; exit 1; }
  VPID=
  SEEN=$(field kernel_packets "$OUT/eve/eve.json")
  DROPS=$(field kernel_drops "$OUT/eve/eve.json")
}

report() {
  awk -v w="$1" -v how="$2" -v pps="$PPS" -v mbps="$MBPS" -v sent="$SENT" -v seen="$SEEN" \
    -v drops="$DROPS" 'BEGIN {
      printf "workers %s  %-14s %6.3f Mpps  %6.2f Gbps  sent %d seen %d drops %d\n",
        w, how, pps / 1e6, mbps / 1e3, sent, seen, drops }'
}

echo "bench-live: $PCAP x $LOOP, rules: ${RULES:-none}, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for w in $WORKERS; do
  run "$w" --topspeed
  report "$w" "top speed" 
  if [ "$DROPS" = 0 ] && [ "$SEEN" = "$SENT" ]; then
    echo "workers $w: max zero-drop rate = top speed of tcpreplay ($(awk -v p="$PPS" 'BEGIN{printf "%.3f", p/1e6}') Mpps)"
    continue
  fi
  best=""
  for r in $STEPS; do
    run "$w" --pps "$r"
    report "$w" "--pps $r"
    if [ "$DROPS" = 0 ] && [ "$SEEN" = "$SENT" ]; then
      best=$r
      break
    fi
  done
  echo "workers $w: max zero-drop rate ${best:-below the lowest step} pps requested ($(awk -v p="$PPS" -v m="$MBPS" 'BEGIN{printf "%.3f Mpps, %.2f Gbps achieved", p/1e6, m/1e3}'))"
done

# Drain phase: 512 MiB of ring per worker holds the whole burst, so nothing may be dropped.
cpu_ticks() { # utime+stime of a process, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
hz=$(getconf CLK_TCK)
for w in $WORKERS; do
  rm -rf "$OUT/eve"
  rule_args=""
  [ -n "$RULES" ] && rule_args="-S $RULES"
  # shellcheck disable=SC2086 # rule_args is empty or two words
  ip netns exec "$NS" "$VEDETTE" live -i vb --workers "$w" --output-dir "$OUT/eve" -k none -q \
    --set capture.live.stats_interval_secs=0 --set capture.live.block_bytes=4194304 \
    --set capture.live.block_count=128 $rule_args 2>"$OUT/err" &
  VPID=$!
  until grep -q "capturing on vb" "$OUT/err" 2>/dev/null; do sleep 0.05; done
  # `ip netns exec` runs vedette as its child: find the capturing process itself.
  PID=$(pgrep -P "$VPID" -x vedette || echo "$VPID")
  kill -STOP "$PID"
  ip netns exec "$NS" tcpreplay -i va --preload-pcap --loop "$DRAIN_LOOP" --topspeed "$PCAP" >"$OUT/replay" 2>&1
  SENT=$(grep -o 'Successful packets: *[0-9]*' "$OUT/replay" | grep -o '[0-9]*$')
  BYTES=$(grep -o 'Actual: [0-9]* packets ([0-9]* bytes)' "$OUT/replay" | sed 's/.*(\([0-9]*\) bytes)/\1/')
  c0=$(cpu_ticks "$PID")
  t0=$(date +%s.%N)
  kill -CONT "$PID"
  # Busy until its CPU time stops growing for 200 ms.
  prev=-1
  while :; do
    now=$(cpu_ticks "$PID")
    [ "$now" = "$prev" ] && break
    prev=$now
    t1=$(date +%s.%N)
    sleep 0.2
  done
  c1=$now
  kill -INT "$VPID"
  wait "$VPID" || { cat "$OUT/err" >&2; exit 1; }
  VPID=
  SEEN=$(field kernel_packets "$OUT/eve/eve.json")
  DROPS=$(field kernel_drops "$OUT/eve/eve.json")
  PKTS=$(field pkts "$OUT/eve/eve.json")
  awk -v w="$w" -v sent="$SENT" -v seen="$SEEN" -v drops="$DROPS" -v pkts="$PKTS" -v bytes="$BYTES" \
    -v t0="$t0" -v t1="$t1" -v c="$((c1 - c0))" -v hz="$hz" 'BEGIN {
      wall = t1 - t0; cpu = c / hz;
      if (wall <= 0) wall = 1e-3; if (cpu <= 0) cpu = 1.0 / hz;
      printf "workers %s  ring drain    %6.3f Mpps  %6.2f Gbps (wall, <= %.2f s)  %6.3f Mpps per CPU-second  sent %d seen %d processed %d drops %d\n",
        w, pkts / wall / 1e6, bytes * 8 / wall / 1e9, wall, pkts / cpu / 1e6, sent, seen, pkts, drops }'
done
