//! Objectives compile, merge over an impl block's, and change nothing at run time.

instrument::objectives!(success = 99.9, latency_ms = 300);

#[instrument::track_performance(objective(success = 99.5, latency_ms = 250, percentile = 95))]
fn reserve(seats: u32) -> Result<u32, std::fmt::Error> {
    Ok(seats)
}

struct Shop;

#[instrument::track_performance(objective(success = 99))]
impl Shop {
    #[instrument::track_performance(objective(latency_ms = 12.5))]
    fn open(&self, hour: u8) -> bool {
        hour >= 8
    }
}

fn main() {
    let capture = instrument::testing::Capture::new();
    capture.run(|| {
        assert_eq!(reserve(2), Ok(2));
        assert!(Shop.open(9));
    });
    assert_eq!(capture.metric_sum("reserve.success"), 1.0);
    assert_eq!(capture.metric_values("Shop::open.latency").len(), 1);
}
