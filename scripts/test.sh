#!/usr/bin/env bash
# The whole test suite: every crate, every feature, unit, integration and doc tests,
# one smoke pass of every benchmark (each bench body runs once, untimed), and short fuzz runs
# of the redactor and the JSON writer where a nightly toolchain is available (cargo-fuzz needs one).
# Anything the tests need (servers on 127.0.0.1, …) is started from here.
# Ends with one summary line of all cargo test results.
set -euo pipefail
cd "$(dirname "$0")/.."

# CI explores a fixed sequence of property-test cases so a run is reproducible; anywhere else
# each run draws new cases (a failure is saved under tests/*.proptest-regressions).
if [ "${CI:-}" = true ]; then
  export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261122}"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

cargo test --workspace --all-features 2>&1 | tee -a "$log"
cargo test --workspace --all-features --benches 2>&1 | tee -a "$log"

if cargo +nightly --version >/dev/null 2>&1; then
  if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --quiet
  fi
  echo "fuzz: smoke runs of the redactor (30 s) and the JSON writer (15 s) (fuzz/README.md)"
  (cd fuzz && cargo +nightly fuzz run redact -- -max_total_time=30 -max_len=1024 2>&1 | tail -n 5)
  (cd fuzz && cargo +nightly fuzz run json -- -max_total_time=15 -max_len=4096 2>&1 | tail -n 3)
else
  echo "fuzz: skipped, no nightly toolchain (see fuzz/README.md to run it)"
fi

passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
echo "tests: $passed passed, $failed failed"
