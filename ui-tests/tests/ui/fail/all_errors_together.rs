use instrument::track_performance;

#[track_performance(nmae = "x", level = 3, log = "sometimes", skip_all = true)]
fn reserve() {}

fn main() {}
