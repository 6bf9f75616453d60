#![deny(unused_must_use, deprecated)]

use instrument::track_performance;

/// Reserves seats.
#[track_performance]
#[must_use = "the reservation must be confirmed"]
fn reserve() -> u32 {
    1
}

#[deprecated(note = "use reserve")]
#[track_performance]
fn old_reserve() -> u32 {
    1
}

fn main() {
    reserve();
    let _ = old_reserve();
}
