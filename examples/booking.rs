//! A small simulated booking service: the README's main job.
//!
//! ```text
//! cargo run --example booking
//! ```
//!
//! It serves a handful of ticket reservations (reserve → pay → notify) the way a real service
//! would log them, then two invocations shaped like `lambda_runtime`'s, and prints every line as
//! the JSON that CloudWatch Logs Insights will query: log lines, and the EMF documents that
//! become CloudWatch metrics (`Inventory::reserve.success`, `pay.latency`, `seats_reserved`, …)
//! — each invocation's at its end, the rest when the program exits. The customer's email is
//! redacted on the way out. Pipe it through `jq` to read it comfortably. At the end, stderr gets
//! a short human summary computed from those same EMF documents: calls, errors and p50/p99
//! latency per tracked function.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// What every tracked function promises unless it says otherwise: `instrument alarms` turns
// objectives into CloudWatch alarms (they change nothing at run time).
instrument::objectives!(success = 99.5, latency_ms = 250);

/// Payment failures, with a cause, as a real gateway client would return them.
#[derive(Debug)]
enum PaymentError {
    Declined { cause: std::io::Error },
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentError::Declined { .. } => f.write_str("card declined by the payment gateway"),
        }
    }
}

impl std::error::Error for PaymentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PaymentError::Declined { cause } => Some(cause),
        }
    }
}

/// A deterministic pseudo-random sequence, so every run prints the same story.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }
}

struct Inventory {
    seats_left: u32,
}

/// The inventory refused a reservation.
#[derive(Debug)]
struct SoldOut;

impl fmt::Display for SoldOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not enough seats left")
    }
}

impl std::error::Error for SoldOut {}

impl Inventory {
    #[instrument::track_performance(
        dimensions(operation = "reserve"),
        objective(success = 99.9, latency_ms = 25)
    )]
    fn reserve(&mut self, seats: u32) -> Result<u32, SoldOut> {
        if seats > self.seats_left {
            tracing::warn!(
                requested = seats,
                available = self.seats_left,
                "not enough seats"
            );
            return Err(SoldOut);
        }
        self.seats_left -= seats;
        tracing::info!(counter.seats_reserved = seats, "seats held");
        if self.seats_left < 5 {
            tracing::warn!(seats_left = self.seats_left, "inventory running low");
        }
        tracing::debug!(seats_left = self.seats_left, "seats held");
        Ok(self.seats_left)
    }
}

#[instrument::track_performance(skip(dice), fields(currency = "EUR"))]
fn pay(order_id: u64, amount_cents: u64, dice: &mut Dice) -> Result<(), PaymentError> {
    std::thread::sleep(Duration::from_millis(1 + dice.roll(3)));
    if dice.roll(4) == 0 {
        return Err(PaymentError::Declined {
            cause: std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "issuer did not answer in 3 s",
            ),
        });
    }
    tracing::info!("payment captured");
    Ok(())
}

#[instrument::track_performance(fields(channel = "email"))]
fn notify(order_id: u64, email: &str) {
    // A dependency that logs through the `log` crate still produces JSON lines.
    log::info!(target: "mailer", "queued confirmation for order {order_id}");
    tracing::info!(recipient = email, "confirmation sent to {email}");
}

fn handle_request(n: u64, inventory: &mut Inventory, dice: &mut Dice) {
    let correlation_id = format!("req-{:04x}-{:04x}", 0xb00c + n, dice.roll(0xffff));
    let span = tracing::info_span!(
        "http_request",
        correlation_id = correlation_id.as_str(),
        method = "POST",
        route = "/bookings",
        status_code = tracing::field::Empty,
    );
    let _entered = span.enter();
    let seats = 1 + dice.roll(4) as u32;
    tracing::info!(seats, "booking requested");

    let status = match inventory.reserve(seats) {
        Err(_) => 409,
        Ok(_) => {
            let order_id = 40_000 + n;
            match pay(order_id, u64::from(seats) * 4_250, dice) {
                Ok(()) => {
                    notify(order_id, "jane.doe@example.com");
                    201
                }
                Err(error) => {
                    tracing::error!(
                        error = &error as &(dyn std::error::Error + 'static),
                        order_id,
                        "booking failed"
                    );
                    402
                }
            }
        }
    };
    span.record("status_code", status);
    tracing::info!(status_code = status, "request finished");
}

/// Two invocations shaped like the span `lambda_runtime` opens for each one.
fn simulated_lambda_invocations(inventory: &mut Inventory, dice: &mut Dice) {
    for request_id in [
        "6f8e4d2a-0c1b-4a3e-9f7d-2b5c8e1a4d60",
        "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    ] {
        let span = tracing::info_span!(
            "Lambda runtime invoke",
            requestId = request_id,
            xrayTraceId =
                "Root=1-6740c2a0-4f1e2d3c4b5a69788796a5b4;Parent=3f2e1d0c9b8a7968;Sampled=1",
        );
        let _entered = span.enter();
        handle_request(100 + dice.roll(100), inventory, dice);
    }
}

/// Calls, errors and latencies of one tracked function.
type Stats = (f64, f64, Vec<f64>);

/// Calls, errors and latencies per tracked function, read back from the EMF documents.
#[derive(Default)]
struct Summary(Mutex<BTreeMap<String, Stats>>);

impl Summary {
    fn record(&self, document: &[u8]) {
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(document) else {
            return;
        };
        let mut functions = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let declared = doc["_aws"]["CloudWatchMetrics"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|d| d["Metrics"].as_array().into_iter().flatten())
            .filter_map(|m| m["Name"].as_str());
        for name in declared {
            let values: Vec<f64> = match &doc[name] {
                serde_json::Value::Array(vs) => vs.iter().filter_map(|v| v.as_f64()).collect(),
                v => v.as_f64().into_iter().collect(),
            };
            let Some((function, kind)) = name.rsplit_once('.') else {
                continue;
            };
            let entry = functions.entry(function.to_string()).or_default();
            match kind {
                "success" => entry.0 += values.iter().sum::<f64>(),
                "error" => {
                    entry.0 += values.iter().sum::<f64>();
                    entry.1 += values.iter().sum::<f64>();
                }
                "latency" => entry.2.extend(values),
                _ => {}
            }
        }
    }

    fn print(&self) {
        let functions = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let percentile = |sorted: &[f64], p: f64| -> f64 {
            let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            sorted[rank - 1]
        };
        let mut out = String::from("\nbooking summary (from the EMF metrics above)\n");
        out.push_str(&format!(
            "  {:<24} {:>6} {:>7} {:>9} {:>9}\n",
            "function", "calls", "errors", "p50 ms", "p99 ms"
        ));
        for (function, (calls, errors, latencies)) in functions.iter() {
            if latencies.is_empty() {
                continue;
            }
            let mut sorted = latencies.clone();
            sorted.sort_by(f64::total_cmp);
            out.push_str(&format!(
                "  {function:<24} {calls:>6} {errors:>7} {:>9.2} {:>9.2}\n",
                percentile(&sorted, 0.50),
                percentile(&sorted, 0.99),
            ));
        }
        let _ = std::io::stderr().write_all(out.as_bytes());
    }
}

fn main() {
    let summary = Arc::new(Summary::default());
    let tee = summary.clone();
    // EMF documents go to stdout as usual, and into the summary printed at the end.
    let sink = instrument::instrument_emf::FnSink::new(move |document: &[u8]| {
        let _ = std::io::stdout().lock().write_all(document);
        tee.record(document);
    });
    let guard = instrument::builder()
        .service("booking")
        .namespace("Ticketing")
        .environment("dev")
        .metrics_sink(sink)
        .install()
        .unwrap_or_else(|err| {
            eprintln!("booking: {err}");
            std::process::exit(2)
        });

    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "booking service starting"
    );
    let mut inventory = Inventory { seats_left: 24 };
    let mut dice = Dice(7);
    for n in 0..6 {
        handle_request(n, &mut inventory, &mut dice);
    }
    simulated_lambda_invocations(&mut inventory, &mut dice);
    tracing::info!(
        seats_left = inventory.seats_left,
        "booking service stopping"
    );
    guard.flush();
    summary.print();
}
