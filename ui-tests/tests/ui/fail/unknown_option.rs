use instrument::track_performance;

#[track_performance(nmae = "reserve")]
fn reserve() {}

#[track_performance(retries = 3)]
fn retry() {}

fn main() {}
