#!/usr/bin/env bash
# A CSV import through the API: N rows (default 1,000,000, ~95 MB) uploaded as text/csv to
# POST /api/v1/lead-lists/:id/upload, with the body limit raised to fit. Prints the report
# and the wall time. Goal: 1,000,000 rows within 10 s.
#   bench/import_bench.sh [rows=1000000] [database URL (default: SQLite in a temp dir)]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
rows=${1:-1000000}
db=${2:-}

csv=$(mktemp /tmp/gobi-leads.XXXXXX.csv)
python3 "$root/bench/make_leads.py" "$rows" >"$csv"
size=$(stat -c %s "$csv")
start_gobid --body-limit $((size + 1048576)) ${db:+--database "$db"}
trap 'kill $gobid_pid 2>/dev/null; wait $gobid_pid 2>/dev/null; rm -rf "$bench_dir" "$csv"' EXIT
list=$(api POST /api/v1/lead-lists '{"name":"bench"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "machine: $(machine)"
echo "rows: $rows, file: $size bytes, storage: ${db:-sqlite}"
t0=$(date +%s.%N)
report=$(curl -sS --fail-with-body -X POST "$GOBI_URL/api/v1/lead-lists/$list/upload" \
  -H "Authorization: Bearer $GOBI_TOKEN" -H 'Content-Type: text/csv' --data-binary "@$csv" |
  python3 -c 'import json,sys; r=json.load(sys.stdin); r["invalid"]=len(r["invalid"]); print(json.dumps(r))')
t1=$(date +%s.%N)
echo "report: $report"
grep -h "imported" "$bench_dir/gobid.log" | tail -1 || true
python3 -c "print(f'upload to report: {$t1 - $t0:.2f} s, {$rows / ($t1 - $t0):,.0f} rows/s')"
