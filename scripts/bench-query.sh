#!/usr/bin/env bash
# Speed of `instrument query` against DuckDB (read_json_auto) and jq on the same generated file
# of this library's log lines (>= 200 MB). Runs outside CI (not part of scripts/test.sh).
#
#   bash scripts/bench-query.sh            # generates target/bench-query/app.log once, reuses it
#   BENCH_MB=400 bash scripts/bench-query.sh
#
# The query: filter + stats count(), pct(latency_ms, 95) by function, bin(1m), written once per
# tool. DuckDB's quantile_disc and our pct are both nearest-rank; jq sorts each group.
# Needs python3 (DuckDB is installed, pinned, into target/bench-venv) and jq (apt-get install jq).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
out="$CARGO_TARGET_DIR/bench-query"
mkdir -p "$out"
file="$out/app.log"
mb="${BENCH_MB:-220}"
DUCKDB_VERSION=2.0.0

command -v jq >/dev/null || { echo "jq is missing: apt-get install -y jq" >&2; exit 1; }
venv="$CARGO_TARGET_DIR/bench-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "duckdb==$DUCKDB_VERSION"
fi
cargo build --quiet --release -p instrument-cli
instrument="$CARGO_TARGET_DIR/release/instrument"

if [ ! -s "$file" ] || [ "$(( $(stat -c %s "$file") / 1000000 ))" -lt "$mb" ]; then
  echo "generating ${mb} MB of log lines in $file" >&2
  python3 - "$file" "$mb" <<'PY'
import json, random, sys
path, mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(16)
functions = ["reserve_ticket", "BookingService::reserve", "Inventory::reserve", "pay", "notify", "find_booking"]
routes = ["/bookings", "/bookings/{id}", "/inventory", "/health/db"]
base = 1796385600000  # 2026-12-04T11:20:00Z
def ts(ms):
    s, ms = divmod(ms, 1000)
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03dZ" % ms
with open(path, "w") as f:
    written, i = 0, 0
    while written < mb * 1_000_000:
        t = base + i * 7
        cid = "req-%08x" % rng.getrandbits(32)
        route = rng.choice(routes)
        fn = rng.choice(functions)
        error = rng.random() < 0.05
        common = {"service": "booking", "environment": "prod", "method": "POST", "route": route, "correlation_id": cid}
        if rng.random() < 0.5:
            line = {"timestamp": ts(t), "level": "WARN" if error else "INFO", "target": "booking", **common,
                    "message": "%s %s" % (fn, "failed" if error else "finished"), "function": fn,
                    "outcome": "error" if error else "success", "latency_ms": round(rng.lognormvariate(1.0, 1.0), 6),
                    "span": fn, "spans": ["http_request", fn]}
            if error:
                line["error_type"] = "PaymentError"
        else:
            line = {"timestamp": ts(t), "level": "INFO", "target": "booking", **common, "message": "seats held",
                    "counter.seats_reserved": rng.randint(1, 4), "seats": rng.randint(1, 4), "span": "http_request", "spans": ["http_request"]}
        s = json.dumps(line, separators=(",", ":")) + "\n"
        f.write(s)
        written += len(s)
        i += 1
PY
fi
size=$(stat -c %s "$file")
lines=$(wc -l < "$file")

query='filter latency_ms > 1 | stats count(*) as calls, pct(latency_ms, 95) as p95 by function, bin(1m)'
sql="SELECT function, time_bucket(INTERVAL '1 minute', CAST(\"timestamp\" AS TIMESTAMP)) AS minute, count(*) AS calls, quantile_disc(latency_ms, 0.95) AS p95 FROM read_json_auto('$file') WHERE latency_ms > 1 GROUP BY ALL"
jqprog='reduce (inputs | select(.latency_ms != null and .latency_ms > 1)) as $l ({}; .[$l.function + " " + $l.timestamp[0:16]] += [$l.latency_ms]) | to_entries | map({group: .key, calls: (.value | length), p95: (.value | sort | .[((length * 0.95) | ceil) - 1])}) | length'

# Warm the page cache, so every tool reads from memory.
cat "$file" > /dev/null

measure() { # name, command...: prints "seconds max_rss_kb rows"
  local name=$1; shift
  local start end rows
  start=$(date +%s.%N)
  rows=$(/usr/bin/time -f "%M" -o "$out/$name.rss" "$@" 2> "$out/$name.err" | tail -n 1)
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc) $(tail -n 1 "$out/$name.rss") $rows"
}

# Best of $RUNS runs each, interleaved (the machine may be shared): the fastest time, its RSS.
runs="${RUNS:-3}"
duel() { # logs-insights-query sql: sets t_inst m_inst r_inst t_duck m_duck r_duck
  local q=$1 s=$2 t m r
  t_inst=999999; t_duck=999999
  for _ in $(seq 1 "$runs"); do
    read -r t m r < <(measure instrument bash -c "'$instrument' query --format csv '$q' '$file' | tail -n +2 | wc -l")
    if (( $(echo "$t < $t_inst" | bc) )); then t_inst=$t; m_inst=$m; r_inst=$r; fi
    read -r t m r < <(measure duckdb "$venv/bin/python" -c "import duckdb; print(len(duckdb.sql(\"\"\"$s\"\"\").fetchall()))")
    if (( $(echo "$t < $t_duck" | bc) )); then t_duck=$t; m_duck=$m; r_duck=$r; fi
  done
}
row() { printf '| %s | %.2f | %.0f | %.0f | %s | %s |\n' "$1" "$2" "$(echo "$size / 1000000 / $2" | bc -l)" "$(echo "$3 / 1024" | bc -l)" "$4" "$5"; }
rows() { # prints the instrument and DuckDB rows of the last duel
  printf '| tool | seconds | MB/s | max RSS MB | groups | instrument is |\n|---|---|---|---|---|---|\n'
  row "instrument query" "$t_inst" "$m_inst" "$r_inst" "-"
  row "DuckDB $DUCKDB_VERSION read_json_auto" "$t_duck" "$m_duck" "$r_duck" "$(printf '%.2fx faster' "$(echo "$t_duck / $t_inst" | bc -l)")"
}

duel "$query" "$sql"
# jq is an order of magnitude slower: once is enough.
read -r t_jq m_jq r_jq < <(measure jq jq -n "$jqprog" "$file")

printf '\nfile: %s (%d MB, %d lines), %s cores, load %s, best of %s runs\nquery: %s\n\n' "$file" $((size / 1000000)) "$lines" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$runs" "$query"
rows
row "jq $(jq --version | sed 's/jq-//')" "$t_jq" "$m_jq" "$r_jq" "$(printf '%.1fx faster' "$(echo "$t_jq / $t_inst" | bc -l)")"

# The same answer: every group, its count and its p95 (both nearest rank) agree with DuckDB's.
"$instrument" query --format csv "$query" "$file" > "$out/instrument.csv"
"$venv/bin/python" - "$file" "$out/instrument.csv" <<'PY'
import csv, sys, duckdb
path, ours = sys.argv[1], sys.argv[2]
rows = duckdb.sql(f"""SELECT function, strftime(time_bucket(INTERVAL '1 minute', CAST("timestamp" AS TIMESTAMP)), '%Y-%m-%d %H:%M:%S.000'),
    count(*), quantile_disc(latency_ms, 0.95) FROM read_json_auto('{path}') WHERE latency_ms > 1 GROUP BY ALL""").fetchall()
duck = {(r[0], r[1]): (r[2], r[3]) for r in rows}
mine = {(r["function"], r["bin(1m)"]): (int(r["calls"]), float(r["p95"])) for r in csv.DictReader(open(ours))}
same = duck.keys() == mine.keys() and all(duck[k][0] == mine[k][0] and abs(duck[k][1] - mine[k][1]) <= 0.005 * duck[k][1] for k in duck)
print(f"\nresults agree with DuckDB: {'yes' if same else 'NO'} ({len(mine)} groups)")
sys.exit(0 if same else 1)
PY

# The same without the filter: every line must be parsed (no line can be skipped unread).
query2='stats count(*) as calls, pct(latency_ms, 95) as p95 by function, bin(1m)'
sql2="SELECT function, time_bucket(INTERVAL '1 minute', CAST(\"timestamp\" AS TIMESTAMP)) AS minute, count(*) AS calls, quantile_disc(latency_ms, 0.95) AS p95 FROM read_json_auto('$file') GROUP BY ALL"
duel "$query2" "$sql2"
printf '\nquery: %s\n\n' "$query2"
rows
