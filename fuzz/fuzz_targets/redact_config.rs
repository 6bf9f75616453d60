//! Fuzzes the `RedactConfig` loader: arbitrary JSON into `RedactConfig` (serde), then
//! `Redactor::new`, which compiles custom rules' regular expressions and validates token rules.
//! Nothing may panic: a bad configuration is an error; a configuration that loads gives a
//! redactor that redacts any text, twice, without panicking, and leaves clean text borrowed.

#![no_main]

use std::borrow::Cow;

use instrument_core::redact::{RedactConfig, Redactor};
use libfuzzer_sys::fuzz_target;

const SAMPLE: &str = "user a@b.example paid with 4111 1111 1111 1111 from 10.0.0.1, \
                      password=hunter2 token: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";

fuzz_target!(|data: &[u8]| {
    let Ok(config) = serde_json::from_slice::<RedactConfig>(data) else {
        return;
    };
    // Round trip: what loads serialises back to something that loads to the same config.
    let again: RedactConfig =
        serde_json::from_str(&serde_json::to_string(&config).expect("serialises"))
            .expect("a serialised config loads again");
    assert_eq!(again, config);
    let Ok(redactor) = Redactor::new(&config) else {
        return;
    };
    let once = redactor.redact(SAMPLE);
    let _ = redactor.redact(&once);
    let clean = "nothing to see here";
    if let Cow::Borrowed(b) = redactor.redact(clean) {
        assert_eq!(b, clean);
    }
    let _ = redactor.key_rule("password");
});
