#!/usr/bin/env bash
# Re-creates the fixtures of instrument-query's tests from the examples' real output:
#   booking.log          cargo run --example booking
#   axum.log             cargo run --example axum_service --features http -- --demo
#   lambda.log           cargo run --example lambda_handler --features lambda
#   lambda_deadline.log  the same with a flush margin longer than the invocation deadline, so
#                        every invocation logs instrument's "about to time out" line
#   emf_broken.log       deliberately broken EMF documents (one rule each), plus a valid one
# The tests compute their expectations from these files, so regenerating them keeps the tests
# green. Run from anywhere: bash instrument-query/tests/data/regenerate.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
cargo build --quiet --features lambda,http --example booking --example axum_service --example lambda_handler
bin="$CARGO_TARGET_DIR/debug/examples"
# The examples configure themselves; keep the caller's settings out.
clean=(env -u RUST_LOG)
for v in $(env | grep -oE '^(INSTRUMENT_|AWS_|POWERTOOLS_)[A-Za-z0-9_]*' || true); do clean+=(-u "$v"); done
"${clean[@]}" "$bin/booking" > "$here/booking.log" 2>/dev/null
"${clean[@]}" "$bin/axum_service" --demo > "$here/axum.log" 2>/dev/null
"${clean[@]}" "$bin/lambda_handler" > "$here/lambda.log" 2>/dev/null
"${clean[@]}" INSTRUMENT_LAMBDA_FLUSH_MARGIN_MS=3000000 "$bin/lambda_handler" > "$here/lambda_deadline.log" 2>/dev/null

python3 - "$here/emf_broken.log" <<'PY'
import json, sys
TS = 1796387977223  # 2026-12-04T12:39:37.223Z; the tests check with --now at this time
def doc(metrics=None, dims=None, extra=None, aws=True, unit="Count"):
    metrics = metrics if metrics is not None else [{"Name": "hits", "Unit": unit}]
    d = {}
    if aws:
        d["_aws"] = {"Timestamp": TS, "CloudWatchMetrics": [{"Namespace": "Broken", "Dimensions": [dims or ["service"]], "Metrics": metrics}]}
    d["service"] = "svc"
    d["hits"] = 1
    d.update(extra or {})
    return d
lines = [
    ("valid", doc()),
    ("missing _aws", {"CloudWatchMetrics": [{"Namespace": "Broken", "Dimensions": [["service"]], "Metrics": [{"Name": "hits"}]}], "service": "svc", "hits": 1}),
    ("metric without a value", doc(metrics=[{"Name": "hits", "Unit": "Count"}, {"Name": "misses", "Unit": "Count"}])),
    ("31 dimensions", doc(dims=[f"d{i}" for i in range(31)], extra={f"d{i}": "v" for i in range(31)})),
    ("1025-character dimension value", doc(extra={"service": "x" * 1025})),
    ("bad unit", doc(unit="Parsecs")),
    ("101 values", doc(extra={"hits": list(range(101))})),
    ("string value", doc(extra={"hits": "12"})),
]
with open(sys.argv[1], "w") as f:
    f.write('{"timestamp":"2026-12-04T12:39:37.223Z","level":"INFO","message":"not EMF, ignored"}\n')
    for _, d in lines:
        f.write(json.dumps(d, separators=(",", ":")) + "\n")
    f.write('{"_aws":{"Timestamp":1796387977223,"CloudWatchMetrics":[{"Namespace":"Broken","Dimensions":[["service"]],"Metrics":[{"Name":"hits"}]}]},"service":"svc","hits":1\n')
PY
echo "fixtures written to $here"
