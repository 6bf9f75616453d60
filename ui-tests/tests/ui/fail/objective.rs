use instrument::track_performance;

#[track_performance(objective(success = 120))]
fn over_a_hundred_percent() {}

#[track_performance(objective(success = "99.9", latency = 250))]
fn a_string_and_a_misspelt_key() {}

#[track_performance(objective(percentile = 95))]
fn no_target() {}

#[track_performance(objective(success = 99.0, percentile = 95))]
fn a_percentile_without_latency() {}

#[track_performance(objective(latency_ms = -5, latency_ms = 3))]
fn negative_and_duplicate() {}

#[track_performance(objective(success = 99.9, sucess = 99.0))]
fn misspelt_key() {}

#[track_performance(objective = 99.9)]
fn not_a_list() {}

#[track_performance(objectives(success = 99.9))]
fn misspelt_option() {}

instrument::objectives!(success = 100, latency_ms = 0);

fn main() {}
