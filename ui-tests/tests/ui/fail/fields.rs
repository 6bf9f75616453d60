use instrument::track_performance;

#[track_performance(fields(outcome = "mine"))]
fn reserved_field() {}

#[track_performance(fields(user = 1, user = 2))]
fn duplicate_field() {}

#[track_performance(skip(pasword))]
fn unknown_skip(password: &str) {
    let _ = password;
}

#[track_performance]
fn reserved_argument(latency_ms: u64) {
    let _ = latency_ms;
}

struct Shop;

#[track_performance(skip(password))]
impl Shop {
    fn open(&self) {}
}

fn main() {}
