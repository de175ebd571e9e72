#!/usr/bin/env bash
# Concurrent calls through gobid with the full media path, driven by gobi-loadgen on loopback:
# CPU per call, memory per call, and the spacing of gobid's outbound packets as the loadgen
# receives them. Goals (2 cores): 1,000 G.711 calls with spacing 20 +/- 2 ms at p99 and
# <= 150 KB per call; 200 Opus calls.
#
#   bench/call_bench.sh [--calls 1000] [--duration 20] [--codec pcmu|opus] [--rate 100]
#                       [--media-threads 1] [--media-priority 0] [--loadgen-threads 1]
#                       [--loadgen-receive poll|event] [--talk greeting|continuous] [--nice N]
#
# --talk continuous makes the agent's greeting long enough to last the whole call, so gobid
# encodes speech (not silence) on every call throughout: the worst case for the outbound path.
# The default is one 4 s greeting sentence, then silence from the agent.
#
# --duration is the steady-state window measured once every call is up; each call lasts
# ramp (calls / rate) + duration + 5 s. BUILD=dir uses an existing build (else a Release
# build in build-bench/). GOBI_BENCH_LOG_LEVEL sets gobid's log level (default warn).
#
# gobid's CPU is utime + stime from /proc/<pid>/stat over the window; memory per call is
# (VmRSS at the end of the window - VmRSS idle, after provisioning) / calls. The loadgen runs
# on the same 2 cores, so its own CPU is printed too. --nice N (e.g. -10, as root) runs every
# thread of gobid and the loadgen at that nice value, for a shared machine busy with other jobs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/call_lib.sh"

calls=1000 duration=20 codec=pcmu rate=100 media_threads=1 media_priority=0 lg_threads=1
lg_receive=poll talk_mode=greeting nice=0
while (($#)); do
  case $1 in
    --calls) calls=$2 ;;
    --duration) duration=$2 ;;
    --codec) codec=$2 ;;
    --rate) rate=$2 ;;
    --media-threads) media_threads=$2 ;;
    --media-priority) media_priority=$2 ;;
    --loadgen-threads) lg_threads=$2 ;;
    --loadgen-receive) lg_receive=$2 ;;
    --talk) talk_mode=$2 ;;
    --nice) nice=$2 ;;
    *) echo "usage: $0 [--calls N] [--duration S] [--codec pcmu|opus] [--rate R]" \
         "[--media-threads T] [--media-priority P] [--loadgen-threads T]" \
         "[--loadgen-receive poll|event] [--talk greeting|continuous] [--nice N]" >&2
       exit 2 ;;
  esac
  shift 2
done

build_call_bench
GOBI_BENCH_LOG_LEVEL=${GOBI_BENCH_LOG_LEVEL:-warn}
sip_port=$(free_port)
number=+12125550100
start_gobid --sip-port "$sip_port" --rtp-ports 20000-29999 --max-calls $((calls * 2 + 100)) \
  --media-threads "$media_threads" --media-priority "$media_priority" --srtp off
lg_pid=
trap 'kill $lg_pid $gobid_pid 2>/dev/null; wait $gobid_pid 2>/dev/null; rm -rf "$bench_dir"' EXIT
ramp=$(((calls + rate - 1) / rate))
talk=$((ramp + duration + 5))
case $talk_mode in
  greeting) provision_inbound "$number" ;;
  continuous) provision_inbound "$number" 100000 $(((talk + 3) / 4 + 1)) ;; # ~4 s a sentence
  *) echo "--talk: greeting or continuous" >&2; exit 2 ;;
esac
if ((nice != 0)); then
  for task in /proc/"$gobid_pid"/task/*; do renice -n "$nice" -p "${task##*/}" >/dev/null; done
fi
sleep 1
clk_tck=$(getconf CLK_TCK)
rss_idle=$(proc_rss_kb "$gobid_pid")

lg_out=$bench_dir/loadgen.out
nice -n "$nice" "$LOADGEN" --target "127.0.0.1:$sip_port" --number "$number" --calls "$calls" --rate "$rate" \
  --duration "$talk" --codec "$codec" --rtp-ports 40000-49999 --threads "$lg_threads" --rtp-receive "$lg_receive" \
  >"$lg_out" 2>"$bench_dir/loadgen.err" &
lg_pid=$!

# Wait for every call to have its final answer, then let the media settle for 2 s.
for _ in $(seq $((ramp * 10 + 400))); do
  grep -q '^loadgen: steady' "$lg_out" && break
  kill -0 "$lg_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^loadgen: steady' "$lg_out"; then
  echo "the loadgen did not reach steady state:" >&2
  cat "$lg_out" "$bench_dir/loadgen.err" >&2
  exit 1
fi
sleep 2
proc_thread_ticks "$gobid_pid" >"$bench_dir/threads0"
cpu0=$(proc_cpu_ticks "$gobid_pid") lg_cpu0=$(proc_cpu_ticks "$lg_pid") t0=$(date +%s.%N)
sleep "$duration"
cpu1=$(proc_cpu_ticks "$gobid_pid") lg_cpu1=$(proc_cpu_ticks "$lg_pid") t1=$(date +%s.%N)
rss_steady=$(proc_rss_kb "$gobid_pid")
proc_thread_ticks "$gobid_pid" >"$bench_dir/threads1"
load=$(cut -d' ' -f1-3 /proc/loadavg)
wait "$lg_pid" || true
result=$(tail -n 1 "$lg_out")

echo "machine: $(machine); load average at the end of the window: $load"
echo "gobid: --media-threads $media_threads --media-priority $media_priority --srtp off;" \
  "$calls $codec calls at $rate/s, agent talk: $talk_mode," \
  "steady window $duration s; nice $nice"
grep -E '^  ' "$lg_out" | sed 's/^/loadgen /'
python3 - "$result" "$cpu0" "$cpu1" "$lg_cpu0" "$lg_cpu1" "$t0" "$t1" "$clk_tck" "$rss_idle" \
  "$rss_steady" "$calls" "$bench_dir" <<'PY'
import collections, json, sys
by_thread = collections.Counter()
for sign, name in ((-1, "threads0"), (1, "threads1")):
    for line in open(f"{sys.argv[12]}/{name}"):
        thread, ticks = line.split()
        by_thread[thread] += sign * int(ticks)
sys.argv = sys.argv[:12]
r = json.loads(sys.argv[1])
cpu0, cpu1, lg0, lg1, t0, t1, tck, rss0, rss1, n = map(float, sys.argv[2:])
wall = t1 - t0
cpu_s = (cpu1 - cpu0) / tck
up = r["answered"] - r["failures"].get("sdp", 0)
per = up if up else n
print(f"gobid CPU: {100 * cpu_s / wall:.1f}% of one core for {int(up)} calls up: "
      f"{100 * cpu_s / wall / per:.3f}% of a core per call, "
      f"{1000 * cpu_s / wall / per:.3f} CPU-ms per call-second")
print(f"gobid memory: RSS {rss0 / 1024:.1f} MB idle -> {rss1 / 1024:.1f} MB with the calls up: "
      f"{(rss1 - rss0) / per:.1f} KB per call")
print("gobid threads: " + ", ".join(
    f"{name} {100 * t / tck / wall:.1f}%" for name, t in by_thread.most_common() if t > 0))
print(f"loadgen CPU in the window: {100 * (lg1 - lg0) / tck / wall:.1f}% of one core")
s = r["spacing_ms"]
print(f"spacing of gobid's packets: p50 {s['p50']:.2f} ms, p99 {s['p99']:.2f} ms, "
      f"max {s['max']:.2f} ms, within 20 +/- 2 ms {100 * s['within_2ms']:.2f}%; "
      f"lost {r['packets']['lost']} of {r['packets']['received'] + r['packets']['lost']}")
print(json.dumps({"bench": "calls", "calls": int(n), "codec": r["codec"], "up": int(up),
                  "gobid_cpu_pct": round(100 * cpu_s / wall, 2),
                  "cpu_pct_per_call": round(100 * cpu_s / wall / per, 4),
                  "cpu_ms_per_call_s": round(1000 * cpu_s / wall / per, 4),
                  "kb_per_call": round((rss1 - rss0) / per, 1), "loadgen": r}))
PY
