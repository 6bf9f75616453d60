use instrument::track_performance;

#[track_performance(name = 5)]
fn number_as_name() {}

#[track_performance(level = "loud")]
fn unknown_level() {}

#[track_performance(log = true)]
fn bool_as_log() {}

#[track_performance(dimensions(operation = reserve))]
fn identifier_as_dimension() {}

#[track_performance(skip = "password")]
fn string_as_skip(password: &str) {
    let _ = password;
}

#[track_performance(crate = "instrument")]
fn string_as_crate() {}

fn main() {}
