# Shared by the call benchmarks (call_bench.sh, sip_rate.sh): build gobid and gobi-loadgen,
# and provision an inbound number. Source it after lib.sh.

# build_call_bench [BUILD]: sets BUILD (built here, Release, unless given) and GOBID.
build_call_bench() {
  if [[ -z ${BUILD:-} ]]; then
    BUILD=$root/build-bench
    cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" --target gobid gobi-loadgen -j"$(nproc)" >/dev/null
  fi
  GOBID=$BUILD/actors/gobid
  LOADGEN=$BUILD/bench/gobi-loadgen
}

json_field() { # json_field KEY: reads a JSON object on stdin, prints .KEY
  python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"
}

# provision_inbound NUMBER [MAX_CONCURRENT=100000] [GREETING_REPEATS=1]: an agent with a
# greeting (one sentence, about 4 s, said GREETING_REPEATS times), taking up to MAX_CONCURRENT
# calls (above: 486 Busy Here), deployed, and NUMBER routed to it.
provision_inbound() {
  local agent greeting=""
  for _ in $(seq "${3:-1}"); do
    greeting+="Hello, this is the gobi benchmark. How can I help you today? "
  done
  agent=$(api POST /api/v1/agents "{\"name\":\"Bench agent\",\"systemPrompt\":\"You are a benchmark agent.\",
    \"greetingMessage\":\"${greeting% }\",
    \"maxConcurrentCalls\":${2:-100000}}" | json_field id)
  api POST "/api/v1/agents/$agent/deploy" >/dev/null
  api POST /api/v1/phone-numbers "{\"number\":\"$1\",\"agentId\":\"$agent\"}" >/dev/null
}

# proc_cpu_ticks PID: utime + stime in clock ticks (man 5 proc: fields 14 and 15).
proc_cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# proc_rss_kb PID: resident set size in KB.
proc_rss_kb() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# proc_thread_ticks PID: one line per thread, "name ticks" (utime + stime).
proc_thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s\n' "$(tr ' ' _ <"$t/comm")" "$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat")"
  done 2>/dev/null
}
