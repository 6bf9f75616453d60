use instrument::track_performance;

// A dimension named like a field the tracked span records itself would be overwritten
// (issue 15, item 3): the `.error` document would carry the runtime's `error_type`.
#[track_performance(dimensions(error_type = "gateway"))]
fn error_type_dimension() {}

#[track_performance(dimensions(tier = "gold", function = "f", outcome = "ok"))]
fn function_and_outcome_dimensions() {}

struct Shop;

#[track_performance(dimensions(latency_ms = "fast"))]
impl Shop {
    fn open(&self) {}
}

fn main() {}
