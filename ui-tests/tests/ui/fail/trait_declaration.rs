use instrument::track_performance;

trait Store {
    #[track_performance]
    fn save(&self);
}

fn main() {}
