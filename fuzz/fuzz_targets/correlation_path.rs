//! Fuzzes the Lambda integration's correlation-path parser (`CorrelationPath::from_str`, what
//! `INSTRUMENT_CORRELATION_ID_PATHS` and configuration go through) and the extraction it
//! drives: the input is a path and a JSON event, split at the first NUL byte. Parsing never
//! panics; a path that parses displays as text that parses back to the same path, and
//! extracting it from any event never panics and never yields an empty ID.

#![no_main]

use instrument::lambda::CorrelationPath;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (path, event) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    let Ok(parsed) = path.parse::<CorrelationPath>() else {
        return;
    };
    let shown = parsed.to_string();
    let back: CorrelationPath = shown.parse().expect("a shown path parses again");
    assert_eq!(back, parsed, "{path:?} shown as {shown:?}");
    if let Ok(event) = serde_json::from_slice::<serde_json::Value>(event) {
        if let Some(id) = parsed.extract(&event) {
            assert!(!id.is_empty(), "an empty correlation ID from {path:?}");
        }
    }
});
