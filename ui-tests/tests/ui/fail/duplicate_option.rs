use instrument::track_performance;

#[track_performance(level = "info", log = "all", level = "debug")]
fn reserve() {}

#[track_performance(dimensions(operation = "a", operation = "b"))]
fn dimension_twice() {}

fn main() {}
