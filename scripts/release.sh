#!/usr/bin/env bash
# A release of every published crate of the workspace, in lockstep (RELEASING.md):
#
#   bash scripts/release.sh --dry-run 0.2.0   # every step but the commit, the tag and the upload;
#                                             # the files it changed are put back at the end
#   bash scripts/release.sh 0.2.0             # the release itself
#
# Steps: 1. version bump (workspace.package.version and the `=` pins of the workspace's crates,
# Cargo.lock); 2. changelog (the "Unreleased" section becomes the version's, dated today);
# 3. scripts/release_checks.sh (MSRV build, docs, packages) and `cargo publish --dry-run --workspace`;
# 4. cargo-semver-checks against the last release (its tag), skipped with a message while
# nothing has been released; 5. crate names on crates.io still ours or free; then, unless
# --dry-run, 6. the release commit and the tag `v<version>`, 7. `cargo publish --workspace`.
# cargo-semver-checks is installed here when missing (not in CI: it is a release tool).
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=false
version=
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "release: unknown option $arg" >&2; exit 2 ;;
    *) version=$arg ;;
  esac
done
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "usage: scripts/release.sh [--dry-run] <version, e.g. 0.2.0>" >&2
  exit 2
fi
repository=$(sed -n 's/^repository = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
current=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml)
last_tag=$(git tag --list 'v[0-9]*' --sort=-v:refname | head -n 1)
echo "release: $current -> $version$($dry_run && echo ' (dry run)')"

if ! git diff --quiet HEAD --; then
  if $dry_run; then
    echo "release: the work tree has uncommitted changes (allowed in a dry run)"
  else
    echo "release: commit or stash your changes first" >&2
    exit 1
  fi
fi
if git rev-parse -q --verify "refs/tags/v$version" >/dev/null; then
  echo "release: tag v$version exists already" >&2
  exit 1
fi

# A dry run leaves the files as it found them, whatever happens.
changed=(Cargo.toml Cargo.lock CHANGELOG.md)
backup=$(mktemp -d)
cp "${changed[@]}" "$backup/"
restore() {
  if $dry_run; then
    for f in "${changed[@]}"; do cp "$backup/$(basename "$f")" "$f"; done
    echo "release: dry run over, ${changed[*]} restored"
  fi
  rm -rf "$backup"
}
trap restore EXIT

# 1. Version bump: the workspace's version and the exact pins of its crates on each other.
echo "release: 1. version $version in Cargo.toml and Cargo.lock"
python3 - "$current" "$version" <<'EOF'
import re, sys
current, new = sys.argv[1], sys.argv[2]
text = open("Cargo.toml").read()
head, sep, rest = text.partition("[workspace.package]")
rest = re.sub(r'(?m)^version = "' + re.escape(current) + '"$', f'version = "{new}"', rest, count=1)
text = head + sep + rest
pins = r'(?m)^(instrument-[a-z]+ = \{ path = "[^"]+", version = ")=' + re.escape(current) + '"'
text, n = re.subn(pins, r'\g<1>=' + new + '"', text)
if n == 0:
    sys.exit("release: no `version = \"=" + current + "\"` pins found in [workspace.dependencies]")
open("Cargo.toml", "w").write(text)
EOF
cargo update --workspace --quiet

# 2. Changelog: "Unreleased" becomes this version's section; a new empty one goes on top.
echo "release: 2. CHANGELOG.md section [$version] - $(date -u +%F)"
python3 - "$version" "$(date -u +%F)" "$repository" "${last_tag#v}" <<'EOF'
import re, sys
version, day, repo, last = sys.argv[1:5]
text = open("CHANGELOG.md").read()
m = re.search(r"(?ms)^## \[Unreleased\]\n(.*?)(?=^## \[|^\[Unreleased\]:)", text)
if not m or not re.search(r"(?m)^- ", m.group(1)):
    sys.exit("release: CHANGELOG.md has no entries under [Unreleased]: nothing to release")
body = m.group(1)
section = f"## [Unreleased]\n\n## [{version}] - {day}\n" + body
text = text[:m.start()] + section + text[m.end():]
links = re.compile(r"(?m)^\[Unreleased\]: .*$")
compare = f"[Unreleased]: {repo}/compare/v{version}...HEAD\n"
compare += (f"[{version}]: {repo}/compare/v{last}...v{version}" if last
            else f"[{version}]: {repo}/releases/tag/v{version}")
text = links.sub(compare, text, count=1) if links.search(text) else text.rstrip() + "\n\n" + compare + "\n"
open("CHANGELOG.md", "w").write(text)
EOF

# 3. Dry run: scripts/release_checks.sh (what CI runs too), then cargo's own publishing dry run (every
# crate packaged and built from its .crate, in dependency order, nothing uploaded).
echo "release: 3. package checks and cargo publish --dry-run"
bash scripts/release_checks.sh
cargo publish --workspace --dry-run --locked --allow-dirty --quiet

# 4. Semver: the public API against the last release's (its tag), for the version just set.
if [ -z "$last_tag" ]; then
  echo "release: 4. semver check skipped: nothing released yet (no v* tag), no baseline"
else
  if ! cargo semver-checks --version >/dev/null 2>&1; then
    echo "release: installing cargo-semver-checks"
    cargo install cargo-semver-checks --locked --quiet
  fi
  echo "release: 4. cargo semver-checks against $last_tag"
  cargo semver-checks check-release --workspace --exclude instrument-ui-tests --baseline-rev "$last_tag"
fi

# 5. Names: every crate free on crates.io, or already ours (same repository).
echo "release: 5. crate names on crates.io"
names=$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json, sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["packages"] if p.get("publish") != []))')
taken=0
for name in $names; do
  info=$(cargo info "$name" --registry crates-io 2>/dev/null || true)
  owner=$(printf '%s\n' "$info" | sed -n 's/^repository: //p' | sed 's/\.git$//')
  if [ -n "$info" ] && [ "$owner" != "$repository" ]; then
    echo "release: $name on crates.io is another project's ($owner): rename it (RELEASING.md)" >&2
    taken=1
  fi
done
if [ "$taken" = 1 ]; then
  if $dry_run; then
    echo "release: (dry run) the upload would be refused until those crates are renamed"
  else
    exit 1
  fi
fi

if $dry_run; then
  echo "release: dry run: no commit, no tag v$version, nothing uploaded"
  exit 0
fi

# 6. Commit and tag; 7. upload, in dependency order.
git commit --quiet -am "release $version"
git tag -a "v$version" -m "release $version"
echo "release: committed and tagged v$version"
read -r -p "release: publish every crate to crates.io now? [y/N] " answer
if [ "$answer" = y ]; then
  cargo publish --workspace --locked
  echo "release: published; push with: git push origin HEAD v$version"
else
  echo "release: not published; later: cargo publish --workspace --locked, then git push origin HEAD v$version"
fi
