use instrument::track_performance;

#[track_performance]
const fn limit() -> u32 {
    4
}

struct Shop;

impl Shop {
    #[track_performance(name = "shop_size")]
    pub const fn size() -> u32 {
        1
    }
}

fn main() {}
