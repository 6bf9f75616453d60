use instrument::track_performance;

#[track_performance]
struct Reservation {
    seats: u32,
}

#[track_performance]
const LIMIT: u32 = 4;

#[track_performance]
mod booking {}

fn main() {}
