//! Fuzzes the JSON writer the log layer builds every line with: whatever the text (arbitrary
//! bytes, lossily decoded as UTF-8), `write_str` produces one valid JSON string that parses
//! back to the text, `escape_into` agrees with it, and `Debug` output escaped while it is being
//! formatted (`write_debug`) round-trips too.

#![no_main]

use instrument_core::json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let mut quoted = Vec::new();
    json::write_str(&mut quoted, &text);
    let back: String = serde_json::from_slice(&quoted).expect("write_str writes valid JSON");
    assert_eq!(back, text);

    let mut bare = vec![b'"'];
    json::escape_into(&mut bare, &text);
    bare.push(b'"');
    assert_eq!(bare, quoted, "escape_into and write_str disagree");

    let mut debugged = Vec::new();
    json::write_debug(&mut debugged, &text);
    let back: String = serde_json::from_slice(&debugged).expect("write_debug writes valid JSON");
    assert_eq!(back, format!("{text:?}"));
});
