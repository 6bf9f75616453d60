//! `install()` takes over the process: global subscriber, `log` bridge, panic hook. One test per
//! binary, because all three are process-global.

use serde_json::{Map, Value};

/// Lines in memory: the `MakeWriter` instrument ships for tests.
type Capture = instrument::testing::LogBuffer;

fn lines(capture: &Capture) -> Vec<Map<String, Value>> {
    capture
        .contents()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn install_bridges_log_records_and_logs_panics() {
    let capture = Capture::default();
    let guard = instrument::builder()
        .writer(capture.clone())
        .env_lookup(|_| None)
        .service("global")
        .install()
        .expect("first install");

    // A second subscriber is refused with a typed error.
    let second = instrument::builder().env_lookup(|_| None).install();
    assert!(matches!(
        second,
        Err(instrument::InitError::AlreadyInstalled)
    ));
    assert!(std::panic::catch_unwind(instrument::init).is_err());

    // `log` records from dependencies become JSON lines, without `log.*` noise.
    log::info!(target: "some_dependency", "connected to {}", "db");
    log::debug!(target: "some_dependency", "filtered out at the default info level");

    // A panic is one ERROR line with message, location and thread, before the old hook runs.
    let result = std::thread::Builder::new()
        .name("worker-1".into())
        .spawn(|| panic!("seat map corrupted"))
        .unwrap()
        .join();
    assert!(result.is_err());
    guard.flush();

    let lines = lines(&capture);
    let from_log: Vec<_> = lines
        .iter()
        .filter(|l| l["target"] == "some_dependency")
        .collect();
    assert_eq!(from_log.len(), 1, "{lines:?}");
    assert_eq!(from_log[0]["message"], "connected to db");
    assert_eq!(from_log[0]["level"], "INFO");
    assert_eq!(from_log[0]["service"], "global");
    assert!(
        from_log[0].keys().all(|k| !k.starts_with("log.")),
        "{:?}",
        from_log[0]
    );

    let panics: Vec<_> = lines.iter().filter(|l| l["target"] == "panic").collect();
    assert_eq!(panics.len(), 2, "{lines:?}");
    // init()'s own panic, with the reason, went through the hook too.
    assert!(panics[0]["message"]
        .as_str()
        .unwrap()
        .contains("a global tracing subscriber is already installed"));
    let panics = &panics[1..];
    assert_eq!(panics[0]["level"], "ERROR");
    assert_eq!(panics[0]["message"], "panicked: seat map corrupted");
    assert_eq!(panics[0]["thread"], "worker-1");
    assert!(panics[0]["panic_location"]
        .as_str()
        .unwrap()
        .starts_with("tests/global_init.rs:"));
}
