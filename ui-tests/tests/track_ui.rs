//! `#[track_performance]` compile-time behaviour: what compiles (and runs), and the errors for
//! what does not, each pointing at the user's offending token. The `.stderr` snapshots depend on
//! the rustc version (1.95.0 here and in CI); regenerate them with `TRYBUILD=overwrite`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
