#!/usr/bin/env bash
# The management API under wrk: an authenticated GET /api/v1/agents answering 100 agents
# (about 90 KB of JSON). Prints wrk's figures. Goal: >= 30k requests/s on 2 cores.
#   bench/api_bench.sh [seconds=10] [connections=64] [http threads=1]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
seconds=${1:-10}
conns=${2:-64}
http_threads=${3:-1}

start_gobid --http-threads "$http_threads"
for i in $(seq 1 100); do
  api POST /api/v1/agents "{\"name\":\"Agent $i\",\"description\":\"Benchmark agent number $i\",
    \"systemPrompt\":\"You are a helpful sales agent for Acme. Qualify the lead, answer questions about pricing and book a demo.\",
    \"personality\":\"Friendly\",\"greetingMessage\":\"Hello, this is Acme calling.\",
    \"llmModel\":\"gpt-4o-mini\",\"voiceId\":\"nova\",\"metadata\":{\"transferNumber\":\"+14155550100\"}}" >/dev/null
done
bytes=$(api GET /api/v1/agents | wc -c)
echo "machine: $(machine)"
echo "GET /api/v1/agents: 100 agents, $bytes bytes per response, $http_threads HTTP thread(s)"
wrk -t2 -c"$conns" -d"${seconds}s" -H "Authorization: Bearer $GOBI_TOKEN" \
  "$GOBI_URL/api/v1/agents"
