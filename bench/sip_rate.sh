#!/usr/bin/env bash
# SIP call set-up rate: SIPp's built-in UAC (`sipp -sn uac`: INVITE, ACK, pause, BYE) against an
# inbound number on gobid. Goal (2 cores): 300 calls/s with no failures; above capacity gobid
# answers explicit 503 (or 486) rather than letting INVITEs time out.
#
#   bench/sip_rate.sh [--rate 300] [--seconds 20] [--pause-ms 0] [--limit 2000]
#                     [--over-max-calls 20] [--over-rate 100] [--over-seconds 5]
#                     [--over-pause-ms 2000]
#
# Run 1: --rate calls/s for --seconds (total rate * seconds, at most --limit open at once),
# each call pausing --pause-ms (SIPp -d; 0 = its default) before the BYE; gobid --max-calls
# high. Prints SIPp's successful and failed calls, its measured call rate and INVITE -> 200
# response times. Run 2 (above capacity): gobid --max-calls --over-max-calls, calls of
# --over-pause-ms at --over-rate/s for --over-seconds; checks that every failure is a 503 or
# 486 (from SIPp's error trace) and none a timeout. BUILD=dir uses an existing build.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/call_lib.sh"

rate=300 seconds=20 pause_ms=0 limit=2000
over_max=20 over_rate=100 over_seconds=5 over_pause_ms=2000
while (($#)); do
  case $1 in
    --rate) rate=$2 ;;
    --seconds) seconds=$2 ;;
    --pause-ms) pause_ms=$2 ;;
    --limit) limit=$2 ;;
    --over-max-calls) over_max=$2 ;;
    --over-rate) over_rate=$2 ;;
    --over-seconds) over_seconds=$2 ;;
    --over-pause-ms) over_pause_ms=$2 ;;
    *) echo "usage: see the comment at the top of $0" >&2; exit 2 ;;
  esac
  shift 2
done

build_call_bench
GOBI_BENCH_LOG_LEVEL=${GOBI_BENCH_LOG_LEVEL:-warn}
number=+12125550100
out=$(mktemp -d /tmp/gobi-sip-rate.XXXXXX)

# run_sipp NAME RATE TOTAL PAUSE_MS: SIPp's UAC against gobid; stats in $out/NAME.csv, unexpected
# messages in $out/NAME.err. Prints its summary.
run_sipp() {
  local name=$1 r=$2 total=$3 pause=$4 t0 t1
  t0=$(date +%s.%N)
  sipp -sn uac "127.0.0.1:$sip_port" -s "${number#+}" -i 127.0.0.1 -p "$(free_port)" \
    -r "$r" -m "$total" -l "$limit" -d "$pause" -max_socket 4096 \
    -nostdin -timeout $((total / r + 90))s -timeout_error \
    -trace_stat -stf "$out/$name.csv" -fd 1 -trace_err -error_file "$out/$name.err" \
    >"$out/$name.out" 2>&1 || true
  t1=$(date +%s.%N)
  python3 - "$out/$name.csv" "$out/$name.err" "$total" "$t0" "$t1" "$r" <<'PY'
import collections, csv, re, sys
path, err, total, t0, t1, rate = sys.argv[1:]
rows = list(csv.reader(open(path), delimiter=";"))
head, last = rows[0], rows[-1]
v = lambda k: last[head.index(k)] if k in head else "?"
n = lambda k: int(v(k)) if v(k).lstrip("-").isdigit() else 0
codes = collections.Counter()
try:
    for m in re.finditer(r"received 'SIP/2\.0 (\d{3})", open(err, errors="replace").read()):
        codes[m.group(1)] += 1
except FileNotFoundError:
    pass
timeouts = n("FailedMaxUDPRetrans(C)") + n("FailedTimeoutOnRecv(C)") + n("FailedTimeoutOnSend(C)")
ok, failed = n("SuccessfulCall(C)"), n("FailedCall(C)")
wall = float(t1) - float(t0)
print(f"  SIPp: {ok} successful, {failed} failed of {total} at -r {rate} "
      f"(SIPp's call rate {v('CallRate(C)')}/s; {int(total) / wall:.0f} calls/s over {wall:.1f} s "
      f"including the last calls' end)")
print(f"  failures: {dict(codes) or 'none'} by status; timeouts (max UDP retransmissions or "
      f"receive timeout) {timeouts}; unexpected messages {n('FailedUnexpectedMessage(C)')}")
print(f"  INVITE -> 200: {v('ResponseTime1(C)')} (SIPp's cumulative average, hh:mm:ss:us)")
print(f"RESULT ok={ok} failed={failed} timeouts={timeouts} "
      f"busy={sum(c for k, c in codes.items() if k in ('503', '486'))}")
PY
}

echo "machine: $(machine)"

# --- run 1: the set-up rate, capacity well above what is offered -----------------------------
sip_port=$(free_port)
start_gobid --sip-port "$sip_port" --max-calls 5000 --srtp off
trap 'kill $gobid_pid 2>/dev/null; wait $gobid_pid 2>/dev/null; rm -rf "$bench_dir" "$out"' EXIT
provision_inbound "$number"
cpu0=$(proc_cpu_ticks "$gobid_pid")
echo "run 1: $rate calls/s for $seconds s, pause ${pause_ms} ms, gobid --max-calls 5000"
run_sipp rate "$rate" $((rate * seconds)) "$pause_ms" >"$out/rate.summary"
grep -v '^RESULT' "$out/rate.summary"
res1=$(tail -n 1 "$out/rate.summary")
cpu1=$(proc_cpu_ticks "$gobid_pid")
echo "  gobid CPU: $(((cpu1 - cpu0) * 1000 / $(getconf CLK_TCK))) ms for $((rate * seconds)) calls"
kill "$gobid_pid"
wait "$gobid_pid" 2>/dev/null || true
rm -rf "$bench_dir"

# --- run 2: above capacity -------------------------------------------------------------------
sip_port=$(free_port)
start_gobid --sip-port "$sip_port" --max-calls "$over_max" --srtp off
trap 'kill $gobid_pid 2>/dev/null; wait $gobid_pid 2>/dev/null; rm -rf "$bench_dir" "$out"' EXIT
provision_inbound "$number"
echo "run 2: $over_rate calls/s for $over_seconds s, pause ${over_pause_ms} ms," \
  "gobid --max-calls $over_max"
run_sipp over "$over_rate" $((over_rate * over_seconds)) "$over_pause_ms" >"$out/over.summary"
grep -v '^RESULT' "$out/over.summary"
res2=$(tail -n 1 "$out/over.summary")

eval "${res1#RESULT }"
verdict1=$([[ $failed == 0 && $ok == $((rate * seconds)) ]] && echo met || echo "NOT met")
eval "${res2#RESULT }"
verdict2=$([[ $timeouts == 0 && $failed -gt 0 && $busy == "$failed" ]] && echo met || echo "NOT met")
echo "goal $rate calls/s with no failures: $verdict1"
echo "goal above capacity, explicit 503/486 and no timeouts: $verdict2" \
  "($failed failed: $busy busy, $timeouts timeouts)"
