#!/usr/bin/env bash
# The release checks (RELEASING.md): what a user of the published crates gets. Run by
# scripts/test.sh (so by CI) and by scripts/release.sh before a release.
#
# 1. The minimum supported Rust version (workspace.package.rust-version in Cargo.toml): the
#    default features of every crate build with exactly that toolchain, which rustup installs
#    here (minimal profile), in a target folder of its own so the main build is never invalidated;
#    the README must state that version.
# 2. The API docs of every feature, rustdoc warnings (broken intra-doc links, ...) as errors.
# 3. Every published crate packaged and built from its .crate, in dependency order (cargo
#    packages the workspace's crates together, those already packaged standing in for
#    crates.io); then every file the packaged sources name (test data, the EMF schema,
#    snapshots) must be in its package: cargo's verification builds libraries and binaries, not
#    tests.
# 4. Where a nightly toolchain is installed: the docs as docs.rs builds them
#    (package.metadata.docs.rs: all features, `--cfg docsrs` for rustdoc only), so a nightly
#    that drops the `doc_cfg` feature the crate roots ask for fails here, not on docs.rs. In a
#    target folder of its own: sharing target/doc, each docs build would redo the other's.
set -euo pipefail
cd "$(dirname "$0")/.."

msrv=$(sed -n 's/^rust-version = "\([0-9.]*\)".*/\1/p' Cargo.toml | head -n 1)
if ! grep -qF "**Rust $msrv**" README.md; then
  echo "msrv: the README's \"Supported Rust versions\" does not say **Rust $msrv** (Cargo.toml's rust-version)" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  rustup --quiet toolchain install "$msrv" --profile minimal --no-self-update
  echo "msrv: cargo +$msrv check --workspace (default features)"
  cargo "+$msrv" check --workspace --locked --quiet --target-dir "${CARGO_TARGET_DIR:-target}/msrv"
else
  echo "msrv: skipped, no rustup to install Rust $msrv with"
fi

echo "docs: cargo doc --workspace --all-features --no-deps, warnings denied"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked --quiet

echo "package: cargo package --workspace, then the files the packaged sources name"
cargo package --workspace --exclude instrument-ui-tests --locked --allow-dirty --quiet
python3 scripts/check_package_files.py

if cargo +nightly --version >/dev/null 2>&1; then
  echo "docs.rs: cargo +nightly doc --all-features with --cfg docsrs, warnings denied"
  RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo +nightly doc --workspace --all-features --no-deps \
    --locked --quiet --target-dir "${CARGO_TARGET_DIR:-target}/docsrs"
else
  echo "docs.rs: skipped, no nightly toolchain"
fi
