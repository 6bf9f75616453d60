#!/usr/bin/env bash
# The whole test suite: every crate, every feature, unit, integration and doc tests,
# plus one smoke pass of every benchmark (each bench body runs once, untimed).
# Anything the tests need (servers on 127.0.0.1, …) is started from here.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --all-features
cargo test --workspace --all-features --benches
