use instrument::track_performance;

#[derive(Debug)]
struct BookingError;

#[track_performance]
fn reserve(seats: u32) -> Result<u32, BookingError> {
    let parsed: u32 = "4".parse()?;
    if seats > parsed {
        return Err("sold out");
    }
    Ok(seats)
}

#[track_performance]
async fn reserve_async(seats: u32) -> u32 {
    seats.to_string()
}

fn main() {}
