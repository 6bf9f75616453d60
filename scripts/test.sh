#!/usr/bin/env bash
# The whole test suite: every crate, every feature, unit, integration and doc tests,
# one smoke pass of every benchmark (each bench body runs once, untimed), the release checks
# (the default features built with the minimum supported Rust version, the docs with warnings
# denied, `cargo package` of every published crate), and, where a nightly toolchain is
# available, the docs as docs.rs builds them and a short run of every fuzz target (cargo-fuzz
# needs nightly).
# Anything the tests need (servers on 127.0.0.1, …) is started from here: moto for the
# CloudWatch API tests, stopped on exit (also on failure).
# Ends with one summary line of all cargo test results.
set -euo pipefail
cd "$(dirname "$0")/.."

# CI explores a fixed sequence of property-test cases so a run is reproducible; anywhere else
# each run draws new cases (a failure is saved under tests/*.proptest-regressions).
if [ "${CI:-}" = true ]; then
  export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261122}"
fi

log=$(mktemp)
cw_pid=
cw_url_file=$(mktemp)
otlp_pid=
otlp_url_file=$(mktemp)
cleanup() {
  if [ -n "$otlp_pid" ] && kill -0 "$otlp_pid" 2>/dev/null; then
    kill "$otlp_pid" 2>/dev/null || true
  fi
  if [ -n "$cw_pid" ] && kill -0 "$cw_pid" 2>/dev/null; then
    kill "$cw_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$cw_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$cw_pid" 2>/dev/null || true
  fi
  rm -f "$log" "$cw_url_file" "$otlp_url_file"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until the server PID ($1) has written its URL to the file $2 and answers GET URL$3
# (60 s at most); fails as soon as the server exits.
await_server() {
  local venv="${CARGO_TARGET_DIR:-target}/cloudwatch-venv"
  for _ in $(seq 1 300); do
    if [ -s "$2" ] && "$venv/bin/python" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + sys.argv[2], timeout=2)' "$(cat "$2")" "$3" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# The CloudWatch API tests (feature cloudwatch-api, and instrument-cli's `--apply` tests under its
# feature apply) talk to moto, behind the rpcv2Cbor adapter
# tests/support/cw_adapter.py, on 127.0.0.1 (a free port the adapter picks and writes to a file).
# Python packages go into a venv under target/. The tests find the server through
# INSTRUMENT_TEST_CLOUDWATCH_URL; INSTRUMENT_TEST_REQUIRE_CLOUDWATCH makes a missing server a
# test failure here (plain `cargo test` skips those tests with a notice instead).
start_cloudwatch() {
  local target="${CARGO_TARGET_DIR:-target}"
  local venv="$target/cloudwatch-venv"
  mkdir -p "$target"
  # cfn-lint checks every CloudFormation template `instrument` generates (instrument-cli's
  # tests find it in this venv; INSTRUMENT_TEST_REQUIRE_CLOUDWATCH makes its absence a failure).
  # opentelemetry-proto: the OTLP receiver of the trace tests (start_otlp below) decodes with it.
  if ! "$venv/bin/python" -c 'import moto, cbor2, cfnlint, opentelemetry.proto' >/dev/null 2>&1; then
    echo "cloudwatch: installing moto[server], cbor2, cfn-lint and opentelemetry-proto into $venv"
    python3 -m venv "$venv" &&
      "$venv/bin/pip" install --quiet --disable-pip-version-check \
        'moto[server]==5.2.5' 'cbor2>=5.6,<7' 'cfn-lint==1.58.0' \
        'opentelemetry-proto==1.45.2' || return 1
  fi
  : >"$cw_url_file"
  "$venv/bin/python" tests/support/cw_adapter.py --port-file "$cw_url_file" \
    >"$target/cw_adapter.log" 2>&1 &
  cw_pid=$!
  if await_server "$cw_pid" "$cw_url_file" /__health; then
    export INSTRUMENT_TEST_CLOUDWATCH_URL
    INSTRUMENT_TEST_CLOUDWATCH_URL=$(cat "$cw_url_file")
    echo "cloudwatch: moto (via the CBOR adapter) ready at $INSTRUMENT_TEST_CLOUDWATCH_URL"
    return 0
  fi
  echo "cloudwatch: the test server did not start; its log:"
  cat "$target/cw_adapter.log" || true
  return 1
}
export INSTRUMENT_TEST_REQUIRE_CLOUDWATCH=1
if ! start_cloudwatch; then
  echo "cloudwatch: no test server: the CloudWatch API tests will fail and say so"
fi
# The trace tests (feature otel) export to a real OTLP/HTTP receiver,
# tests/support/otlp_receiver.py (decoding with the published opentelemetry-proto package, in the
# same venv), on a free port of 127.0.0.1; they find it through INSTRUMENT_TEST_OTLP_URL, and
# INSTRUMENT_TEST_REQUIRE_OTLP makes a missing receiver a test failure here.
start_otlp() {
  local target="${CARGO_TARGET_DIR:-target}"
  local venv="$target/cloudwatch-venv"
  : >"$otlp_url_file"
  "$venv/bin/python" tests/support/otlp_receiver.py --port-file "$otlp_url_file" \
    >"$target/otlp_receiver.log" 2>&1 &
  otlp_pid=$!
  if await_server "$otlp_pid" "$otlp_url_file" /health; then
    export INSTRUMENT_TEST_OTLP_URL
    INSTRUMENT_TEST_OTLP_URL=$(cat "$otlp_url_file")
    echo "otlp: receiver ready at $INSTRUMENT_TEST_OTLP_URL"
    return 0
  fi
  echo "otlp: the receiver did not start; its log:"
  cat "$target/otlp_receiver.log" || true
  return 1
}
export INSTRUMENT_TEST_REQUIRE_OTLP=1
if ! start_otlp; then
  echo "otlp: no receiver: the trace tests will fail and say so"
fi
# The AWS configuration chain of the facade test: test credentials, no instance metadata.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

cargo test --workspace --all-features 2>&1 | tee -a "$log"
cargo test --workspace --all-features --benches 2>&1 | tee -a "$log"

# The release checks (MSRV build, docs, cargo package; RELEASING.md).
bash scripts/release_checks.sh

if cargo +nightly --version >/dev/null 2>&1; then
  if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --quiet
  fi
  echo "fuzz: a smoke pass of every target (scripts/fuzz.sh --smoke; fuzz/README.md)"
  bash scripts/fuzz.sh --smoke
else
  echo "fuzz: skipped, no nightly toolchain (see fuzz/README.md to run it)"
fi

passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
echo "tests: $passed passed, $failed failed"
