# Shared by the bench scripts: start a throw-away gobid on a free loopback port, and call its
# API. Source it; it defines start_gobid, api, and GOBI_URL / GOBI_TOKEN once started.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GOBID=${GOBID:-$root/build/actors/gobid}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# api METHOD PATH [BODY]: prints the response body; fails on HTTP >= 400.
api() {
  curl -sS --fail-with-body -X "$1" "$GOBI_URL$2" -H "Authorization: Bearer ${GOBI_TOKEN:-}" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"}
}

# start_gobid [gobid flags...]: starts gobid, waits for /health, registers a user.
start_gobid() {
  bench_dir=$(mktemp -d /tmp/gobi-bench.XXXXXX)
  local port
  port=$(free_port)
  "$GOBID" --data-dir "$bench_dir" --http-port "$port" --log-level ${GOBI_BENCH_LOG_LEVEL:-info} "$@" \
    >"$bench_dir/gobid.log" 2>&1 &
  gobid_pid=$!
  trap 'kill $gobid_pid 2>/dev/null; wait $gobid_pid 2>/dev/null; rm -rf "$bench_dir"' EXIT
  GOBI_URL="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    curl -sf "$GOBI_URL/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  GOBI_TOKEN=$(api POST /api/v1/auth/register \
    '{"email":"bench@example.com","password":"benchmark-pass","name":"Bench","tenantName":"Bench"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
}

machine() {
  echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
}
