#!/usr/bin/env python3
"""Every file a published package's sources name is in that package.

`cargo package` verifies a package by building its library and binaries, not its tests, so a test
whose data file (the EMF schema, the PII corpus, a snapshot) is missing from the package would
go unnoticed until someone runs the tests from the crate. This script reads the `.crate` files
`cargo package --workspace` left in `$CARGO_TARGET_DIR/package/` and, in every packaged `.rs`
file, looks at each string literal that reads like a relative path (`include_str!`,
`include_bytes!`, `#[path]`, `concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")`,
`root.join("README.md")`, ...). A literal that names a file or folder of the repository, relative
to the source file's folder or to the crate's root, must name one inside the package: a path
that exists in the repository but not in the package (an excluded file, or another crate's
folder) fails. A file that needs repository-only paths must itself be left out of the package
(`exclude` in the crate's Cargo.toml), consciously.

Usage: scripts/check_package_files.py   (after `cargo package --workspace`)
"""

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

# A string literal without escapes or interpolation.
LITERAL = re.compile(r'"([A-Za-z0-9_./-]+)"')
DATA_SUFFIXES = (".json", ".jsonl", ".log", ".md", ".insights", ".rs", ".stderr", ".py", ".txt",
                 ".toml", ".sh", ".proptest-regressions")


def looks_like_path(text):
    if "//" in text or text in (".", "..", "/"):
        return False
    return "/" in text or text.endswith(DATA_SUFFIXES)


def normalize(path):
    """`a/b/../c` -> `a/c`, without touching the file system; None when it climbs above the root."""
    parts = []
    for part in PurePosixPath(path).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def published_packages(root):
    out = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1", "--locked"],
        cwd=root, check=True, capture_output=True, text=True).stdout
    meta = json.loads(out)
    for pkg in meta["packages"]:
        if pkg.get("publish") == []:
            continue
        yield pkg["name"], pkg["version"], Path(pkg["manifest_path"]).parent


def check(root, target):
    failures = []
    checked = 0
    for name, version, crate_dir in published_packages(root):
        crate = target / "package" / f"{name}-{version}.crate"
        if not crate.is_file():
            failures.append(f"{crate}: missing (run `cargo package --workspace` first)")
            continue
        prefix = f"{name}-{version}/"
        with tarfile.open(crate) as tar:
            members = {m.name[len(prefix):]: m for m in tar.getmembers() if m.isfile()}
            sources = {p: tar.extractfile(m).read().decode("utf-8", "replace")
                       for p, m in members.items() if p.endswith(".rs")}
        packaged = set(members)
        folders = {str(PurePosixPath(p).parent) for p in packaged}
        folders |= {"/".join(p.split("/")[:i]) for p in packaged for i in range(1, p.count("/") + 1)}
        crate_rel = crate_dir.relative_to(root).as_posix()
        crate_rel = "" if crate_rel == "." else crate_rel + "/"
        before = checked
        for source, text in sorted(sources.items()):
            base = str(PurePosixPath(source).parent)
            base = "" if base == "." else base + "/"
            for literal in sorted(set(LITERAL.findall(text))):
                if not looks_like_path(literal):
                    continue
                checked += 1
                relative = literal.lstrip("/")
                # Relative to the source's folder, or to the crate's root; as repository paths.
                in_repo = {normalize(crate_rel + base + relative), normalize(crate_rel + relative)}
                in_repo.discard(None)
                existing = sorted(p for p in in_repo if (root / p).exists())
                if not existing:
                    continue  # names nothing of the repository: not a path of ours
                in_package = [p[len(crate_rel):] for p in existing if p.startswith(crate_rel)]
                if any(p in packaged or p in folders for p in in_package):
                    continue
                where = "is not in the package" if in_package else "is outside the package"
                failures.append(f"{name}: {source} names \"{literal}\": {existing[0]} {where}")
        print(f"package files: {name} {version}: {len(packaged)} files, "
              f"{checked - before} path literals in its sources")
    return failures, checked


def main():
    root = Path(__file__).resolve().parent.parent
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    if not target.is_absolute():
        target = root / target
    failures, checked = check(root, target)
    for failure in failures:
        print(f"package files: {failure}", file=sys.stderr)
    if failures:
        print(f"package files: {len(failures)} referenced file(s) missing from the packages; "
              "add them to the crate's `include` or leave the referencing file out of the "
              "package", file=sys.stderr)
        return 1
    print(f"package files: every path named in the packaged sources is packaged "
          f"({checked} path literals)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
