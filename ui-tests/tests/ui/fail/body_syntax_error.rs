use instrument::track_performance;

#[track_performance]
fn reserve(seats: u32) -> u32 {
    let doubled = seats * ;
    doubled
}

fn main() {}
