//! Running an example as its own process, from another crate's tests (included with
//! `#[path = "../../tests/support/run_example.rs"] mod run_example;`): the binary is built first
//! when missing or older than its source, and runs without the caller's `INSTRUMENT_*`,
//! `AWS_*`, `POWERTOOLS_*` and `RUST_LOG` settings (the examples configure themselves).
#![allow(dead_code)] // each test binary uses a part

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// The workspace root.
pub fn workspace() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("examples").is_dir() {
        assert!(
            dir.pop(),
            "no workspace root above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
    dir
}

/// The example's binary, built first (features `http,lambda`) if it is missing or stale.
/// (`cargo test` of the root package builds the examples; `cargo test -p <another crate>` does
/// not.)
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let modified = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    // Older than its source, or than this test binary (rebuilt when the library changes): stale.
    let built = modified(&binary);
    let fresh = binary.exists()
        && built >= modified(&workspace().join(format!("examples/{name}.rs")))
        && built >= modified(&exe);
    if !fresh {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--features",
                "http,lambda",
                "--example",
                name,
            ])
            .current_dir(workspace())
            .status()
            .unwrap();
        assert!(status.success(), "building example {name} failed");
    }
    binary
}

/// The example's stdout (it must exit successfully).
pub fn run(name: &str, args: &[&str]) -> String {
    let mut command = Command::new(example(name));
    command
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("INSTRUMENT_")
            || key.starts_with("AWS_")
            || key.starts_with("POWERTOOLS_")
            || key == "RUST_LOG"
        {
            command.env_remove(key);
        }
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{name} failed");
    String::from_utf8(out.stdout).unwrap()
}
