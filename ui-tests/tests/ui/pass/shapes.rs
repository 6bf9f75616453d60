//! Every supported shape compiles without a warning, and runs.
#![deny(warnings)]
#![forbid(unsafe_op_in_unsafe_fn)]

use std::future::Future;
use std::pin::Pin;

use instrument::track_performance;

#[derive(Debug)]
pub struct BookingError;

impl std::fmt::Display for BookingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("booking error")
    }
}

impl std::error::Error for BookingError {}

/// Documented.
#[track_performance]
#[inline]
#[must_use]
pub fn reserve(seats: u32) -> Result<u32, BookingError> {
    if seats > 4 {
        return Err(BookingError);
    }
    Ok(seats)
}

#[track_performance(name = "parse", level = "debug", log = "all", dimensions(kind = "text"))]
fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    #![allow(clippy::needless_return)]
    let n: u32 = text.parse()?;
    return Ok(n);
}

#[track_performance(skip_all)]
async fn reserve_async(seats: u32) -> std::io::Result<u32> {
    Ok(seats)
}

#[track_performance]
fn returns_reference(items: &[u32]) -> Option<&u32> {
    items.first()
}

#[track_performance]
fn iterator(limit: u32) -> impl Iterator<Item = u32> {
    0..limit
}

#[track_performance]
fn future(seats: u32) -> impl Future<Output = Result<u32, BookingError>> + Send + 'static {
    async move { Ok(seats) }
}

#[track_performance]
fn boxed(seats: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move { seats })
}

#[track_performance]
fn generic<T, U>(value: T, other: U) -> (T, U)
where
    T: Clone + std::fmt::Debug,
    U: Default,
{
    let _ = other;
    (value.clone(), U::default())
}

#[track_performance]
fn pattern((a, b): (u32, u32), [c, ..]: [u32; 2]) -> u32 {
    a + b + c
}

/// # Safety
/// `pointer` must be valid.
#[track_performance]
unsafe fn raw(pointer: *const u32) -> u32 {
    unsafe { *pointer }
}

#[track_performance]
fn diverges() -> ! {
    panic!("never returns")
}

pub struct Inventory {
    seats: u32,
}

impl Inventory {
    #[track_performance]
    fn new() -> Self {
        Inventory { seats: 4 }
    }

    #[track_performance(fields(seats = self.seats))]
    fn take(&mut self, n: u32) -> Result<&mut u32, BookingError> {
        self.seats = self.seats.checked_sub(n).ok_or(BookingError)?;
        Ok(&mut self.seats)
    }

    #[track_performance]
    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.seats
    }

    #[track_performance]
    async fn refill(&mut self) {
        self.seats += 1;
    }
}

#[track_performance(crate = ::instrument)]
fn explicit_crate() {}

#[async_trait::async_trait]
trait Booking {
    async fn book(&self, seats: u32) -> Result<u32, BookingError>;
}

#[async_trait::async_trait]
impl Booking for Inventory {
    #[track_performance]
    async fn book(&self, seats: u32) -> Result<u32, BookingError> {
        Ok(seats + self.seats)
    }
}

#[track_performance(log = "off")]
#[async_trait::async_trait]
impl Booking for u8 {
    async fn book(&self, seats: u32) -> Result<u32, BookingError> {
        Ok(seats + u32::from(*self))
    }
}

fn main() {
    let _ = reserve(1);
    let _ = parse("1");
    let _ = futures::executor::block_on(reserve_async(1));
    let _ = returns_reference(&[1]);
    let _ = iterator(2).count();
    let _ = futures::executor::block_on(future(1));
    let _ = futures::executor::block_on(boxed(1));
    let _ = generic(1_u8, 2_u16);
    let _ = pattern((1, 2), [3, 4]);
    let _ = unsafe { raw(&1) };
    if std::env::args().count() > 100 {
        diverges();
    }
    let mut inventory = Inventory::new();
    let _ = inventory.take(1);
    let _ = Pin::new(&mut inventory).pinned();
    futures::executor::block_on(inventory.refill());
    let _ = futures::executor::block_on(inventory.book(1));
    let _ = futures::executor::block_on(3_u8.book(1));
    explicit_crate();
}
