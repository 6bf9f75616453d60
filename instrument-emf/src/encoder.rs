//! EMF encoding that can only produce valid documents.
//!
//! Every rule CloudWatch enforces (and drops documents for, silently) is enforced here: at most
//! 100 metric definitions per directive and 100 values per metric, at most 30 dimensions per
//! set, dimension values of 1 to 1024 characters, metric names of 1 to 255 characters, the 27
//! units, `StorageResolution` 1 or 60, finite values, every referenced member present at the root
//! with the right type, and at most 256 KB per document. The rules that are CloudWatch's for
//! any metric data are applied once by [`CheckedGroup`] (the flush checks every group before
//! any exporter sees it); the document's own limits are applied here: too much data is *split*
//! into several valid documents. Invalid input is dropped or repaired and counted in
//! [`Dropped`].

use instrument_core::json;

use crate::checked::CheckedGroup;
use crate::dropped::{DropReason, Dropped};
use crate::unit::Unit;

pub use crate::limits::{
    MAX_DIMENSIONS, MAX_DIMENSION_NAME, MAX_DIMENSION_VALUE, MAX_DOCUMENT_BYTES, MAX_MAGNITUDE,
    MAX_METRICS, MAX_METRIC_NAME, MAX_VALUES,
};

/// One metric of a [`Group`]: a counter or gauge has one value, a distribution many.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric<'a> {
    /// The metric name.
    pub name: &'a str,
    /// Its unit.
    pub unit: Unit,
    /// 1 (high resolution) or 60 (standard); anything else is repaired to 60.
    pub resolution: u32,
    /// The values (at least one to be emitted).
    pub values: &'a [f64],
}

/// Metrics that share dimension values and properties: one or more EMF documents.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group<'a> {
    /// Dimension names and values, in order.
    pub dimensions: Vec<(&'a str, &'a str)>,
    /// Dimension sets as indices into `dimensions`; empty means one set of all dimensions.
    pub dimension_sets: Vec<Vec<usize>>,
    /// Root members that are neither dimensions nor metrics (e.g. `function_request_id`).
    pub properties: Vec<(&'a str, &'a str)>,
    /// The metrics.
    pub metrics: Vec<Metric<'a>>,
}

/// Encodes [`Group`]s into EMF documents.
///
/// ```
/// use instrument_emf::{Dropped, Encoder, Group, Metric, Unit};
/// let encoder = Encoder::new("Ticketing");
/// let group = Group {
///     dimensions: vec![("service", "booking")],
///     metrics: vec![Metric { name: "reserve.latency", unit: Unit::Milliseconds, resolution: 60, values: &[1.5, 2.25] }],
///     ..Group::default()
/// };
/// let mut docs = Vec::new();
/// encoder.encode(&group, 1_795_000_000_000, &Dropped::default(), &mut |doc| docs.push(doc.to_vec()));
/// let doc: serde_json::Value = serde_json::from_slice(&docs[0]).unwrap();
/// assert_eq!(doc["reserve.latency"], serde_json::json!([1.5, 2.25]));
/// assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([["service"]]));
/// ```
#[derive(Debug, Clone)]
pub struct Encoder {
    namespace: String,
    max_bytes: usize,
}

impl Encoder {
    /// An encoder for `namespace` (an invalid namespace — empty, over 255 characters, not
    /// ASCII — is replaced by `instrument`, so documents stay valid).
    pub fn new(namespace: &str) -> Self {
        Self::owned(namespace.to_string())
    }

    /// [`new`](Self::new) taking the namespace by value.
    pub(crate) fn owned(namespace: String) -> Self {
        let valid = !namespace.trim().is_empty()
            && namespace.len() <= 255
            && namespace.bytes().all(|b| (0x20..0x7f).contains(&b))
            && !namespace.starts_with(':');
        Encoder {
            namespace: if valid {
                namespace
            } else {
                "instrument".to_string()
            },
            max_bytes: MAX_DOCUMENT_BYTES,
        }
    }

    /// Lowers the document size limit (e.g. for UDP datagrams); never above 256 KB.
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes.clamp(1024, MAX_DOCUMENT_BYTES);
        self
    }

    /// The namespace documents are written with.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Encodes `group` into as many valid documents as it needs, each handed to `emit` as one
    /// line (ending in `\n`; the size limit applies to the document without it).
    pub fn encode(
        &self,
        group: &Group<'_>,
        timestamp_ms: u64,
        dropped: &Dropped,
        emit: &mut dyn FnMut(&[u8]),
    ) {
        self.encode_checked(
            &CheckedGroup::new(group, dropped),
            timestamp_ms,
            dropped,
            emit,
        );
    }

    /// [`encode`](Self::encode) for a group already checked (what an [`Exporter`] receives).
    ///
    /// [`Exporter`]: crate::Exporter
    pub fn encode_checked(
        &self,
        group: &CheckedGroup<'_>,
        timestamp_ms: u64,
        dropped: &Dropped,
        emit: &mut dyn FnMut(&[u8]),
    ) {
        let metrics = group.metrics();
        if metrics.is_empty() {
            return;
        }
        // Only dimensions some set references appear at the root.
        let referenced: Vec<bool> = (0..group.dimension_count())
            .map(|i| group.sets().iter().any(|s| s.contains(&i)))
            .collect();
        // Rounds of at most 100 values per metric, chunks of at most 100 metrics.
        let rounds = metrics
            .iter()
            .map(|m| m.values.len().div_ceil(MAX_VALUES))
            .max()
            .unwrap_or(0);
        let doc = DocParts {
            encoder: self,
            group,
            referenced: &referenced,
            timestamp_ms,
        };
        let mut buf = Vec::with_capacity(4096);
        for round in 0..rounds {
            let lo = round * MAX_VALUES;
            let slices: Vec<(usize, &[f64])> = metrics
                .iter()
                .enumerate()
                .filter(|(_, m)| m.values.len() > lo)
                .map(|(i, m)| (i, &m.values[lo..m.values.len().min(lo + MAX_VALUES)]))
                .collect();
            for chunk in slices.chunks(MAX_METRICS) {
                doc.emit_sized(chunk, true, &mut buf, dropped, emit);
            }
        }
    }
}

struct DocParts<'e, 'a> {
    encoder: &'e Encoder,
    group: &'e CheckedGroup<'a>,
    referenced: &'e [bool],
    timestamp_ms: u64,
}

impl DocParts<'_, '_> {
    /// Writes one document; halves it until it fits the size limit.
    fn emit_sized(
        &self,
        metrics: &[(usize, &[f64])],
        with_props: bool,
        buf: &mut Vec<u8>,
        dropped: &Dropped,
        emit: &mut dyn FnMut(&[u8]),
    ) {
        buf.clear();
        self.write(metrics, with_props, buf);
        if buf.len() <= self.encoder.max_bytes {
            buf.push(b'\n');
            emit(buf);
            return;
        }
        if metrics.len() > 1 {
            let (a, b) = metrics.split_at(metrics.len() / 2);
            self.emit_sized(a, with_props, buf, dropped, emit);
            self.emit_sized(b, with_props, buf, dropped, emit);
        } else if let [(i, values)] = metrics {
            if values.len() > 1 {
                let (a, b) = values.split_at(values.len() / 2);
                self.emit_sized(&[(*i, a)], with_props, buf, dropped, emit);
                self.emit_sized(&[(*i, b)], with_props, buf, dropped, emit);
            } else if with_props && !self.group.properties().is_empty() {
                dropped.add(
                    DropReason::DocumentTooLarge,
                    self.group.properties().len() as u64,
                );
                self.emit_sized(metrics, false, buf, dropped, emit);
            } else {
                dropped.add(DropReason::DocumentTooLarge, 1);
            }
        }
    }

    fn write(&self, metrics: &[(usize, &[f64])], with_props: bool, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"_aws\":{\"Timestamp\":");
        json::write_u64(out, self.timestamp_ms);
        out.extend_from_slice(b",\"CloudWatchMetrics\":[{\"Namespace\":");
        json::write_str(out, &self.encoder.namespace);
        out.extend_from_slice(b",\"Dimensions\":[");
        for (s, set) in self.group.sets().iter().enumerate() {
            if s > 0 {
                out.push(b',');
            }
            out.push(b'[');
            for (k, &d) in set.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                json::write_str(out, self.group.dimension(d).0);
            }
            out.push(b']');
        }
        out.extend_from_slice(b"],\"Metrics\":[");
        for (k, (i, _)) in metrics.iter().enumerate() {
            let m = &self.group.metrics()[*i];
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"Name\":");
            json::write_str(out, m.name);
            out.extend_from_slice(b",\"Unit\":");
            json::write_str(out, m.unit.as_str());
            if m.resolution == 1 {
                out.extend_from_slice(b",\"StorageResolution\":1");
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"]}]}");
        for (d, referenced) in self.referenced.iter().enumerate() {
            if *referenced {
                let (name, value) = self.group.dimension(d);
                out.push(b',');
                json::write_str(out, name);
                out.push(b':');
                json::write_str(out, value);
            }
        }
        if with_props {
            for (name, value) in self.group.properties() {
                out.push(b',');
                json::write_str(out, name);
                out.push(b':');
                json::write_str(out, value);
            }
        }
        for (i, values) in metrics {
            out.push(b',');
            json::write_str(out, self.group.metrics()[*i].name);
            out.push(b':');
            if let [one] = values {
                write_value(out, *one);
            } else {
                out.push(b'[');
                for (k, v) in values.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    write_value(out, *v);
                }
                out.push(b']');
            }
        }
        out.push(b'}');
    }
}

/// Integers as integers; other values with 6 significant digits (far below CloudWatch's own
/// precision loss, and a third of the bytes of full `f64` precision). Values between 1e-9 and
/// 1e6 — latencies in milliseconds (down to picoseconds), sizes, ratios — are written as
/// fixed-point decimals without any floating-point formatting; the rest through `ryu`, rounded
/// the same way.
fn write_value(out: &mut Vec<u8>, v: f64) {
    // Whole numbers (`fract` would call `trunc`, a libm function without SSE4.1).
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    if v.abs() < 9.0e15 && (v as i64) as f64 == v {
        json::write_i64(out, v as i64);
        return;
    }
    let a = v.abs();
    // (lower bound, decimals) keeping 6 significant digits.
    const FIXED: [(f64, u32); 15] = [
        (1e5, 0),
        (1e4, 1),
        (1e3, 2),
        (1e2, 3),
        (1e1, 4),
        (1e0, 5),
        (1e-1, 6),
        (1e-2, 7),
        (1e-3, 8),
        (1e-4, 9),
        (1e-5, 10),
        (1e-6, 11),
        (1e-7, 12),
        (1e-8, 13),
        (1e-9, 14),
    ];
    const POW10: [f64; 15] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
    ];
    if (1e-9..1e6).contains(&a) {
        // `FIXED` is in decreasing order: the first entry at or below `a`.
        let index = FIXED.partition_point(|(lower, _)| a < *lower);
        if let Some(&(_, decimals)) = FIXED.get(index) {
            // Positive: adding one half and truncating rounds half away from zero, as `round`.
            let scaled = (a * POW10[decimals as usize] + 0.5) as u64;
            if v < 0.0 {
                out.push(b'-');
            }
            write_fixed(out, scaled, decimals);
            return;
        }
    }
    let magnitude = a.log10().floor() as i32;
    // Divide or multiply by an exact power of ten, whichever keeps the result exact.
    let rounded = if magnitude > 5 {
        let unit = 10f64.powi(magnitude - 5);
        (v / unit).round() * unit
    } else {
        let scale = 10f64.powi(5 - magnitude);
        (v * scale).round() / scale
    };
    json::write_f64(out, if rounded.is_finite() { rounded } else { v });
}

/// Two-digit decimal strings, "00" to "99".
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Writes `scaled / 10^decimals` as a decimal number, without trailing zeros: the digits
/// right-aligned in a stack buffer pre-filled with '0' (so the zeros after "0." of a value below
/// 1 are already there), then one copy.
fn write_fixed(out: &mut Vec<u8>, mut scaled: u64, decimals: u32) {
    const LEN: usize = 40;
    let mut decimals = decimals as usize;
    // Trailing zeros of the fraction are not written: drop them before formatting.
    while decimals > 0 && scaled % 10 == 0 {
        scaled /= 10;
        decimals -= 1;
    }
    debug_assert!(decimals <= 14);
    let mut buf = [b'0'; LEN];
    let mut start = LEN;
    let mut n = scaled;
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        start -= 2;
        buf[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        start -= 1;
        buf[start] = b'0' + n as u8;
    }
    let point = LEN - decimals;
    if decimals == 0 {
        out.extend_from_slice(&buf[start..]);
    } else if start < point {
        // At least 1: the integer digits move left by one to make room for the point.
        buf.copy_within(start..point, start - 1);
        buf[point - 1] = b'.';
        out.extend_from_slice(&buf[start - 1..]);
    } else {
        // Below 1: "0." then the fraction, its leading zeros already in place.
        buf[point - 2] = b'0';
        buf[point - 1] = b'.';
        out.extend_from_slice(&buf[point - 2..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(v: f64) -> String {
        let mut out = Vec::new();
        write_value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_keep_six_significant_digits() {
        assert_eq!(fmt(3.0), "3");
        assert_eq!(fmt(-7.0), "-7");
        assert_eq!(fmt(0.072_002_000_000_000_01), "0.072002");
        assert_eq!(fmt(12.3456789), "12.3457");
        assert_eq!(fmt(0.5), "0.5");
        assert_eq!(fmt(-0.25), "-0.25");
        assert_eq!(fmt(123456.7), "123457");
        assert_eq!(fmt(999999.95), "1000000");
        assert_eq!(fmt(0.00123456789), "0.00123457");
        assert_eq!(fmt(1.0e-7 + 1.0e-9), "0.000000101");
        assert_eq!(fmt(0.000_054_321_49), "0.0000543215");
        assert_eq!(fmt(0.000_999_999_999), "0.001");
        assert_eq!(fmt(1.0e-10 + 1.0e-12), "1.01e-10");
        assert_eq!(fmt(1.5e12), "1500000000000");
        assert_eq!(fmt(1.234567e20), "1.23457e20");
        for v in [
            0.001,
            0.0123,
            1.1,
            99.99,
            5e5 + 0.5,
            1e-5,
            3.3e-300,
            7.7e300,
        ] {
            let back: f64 = fmt(v).parse().unwrap();
            assert!(((back - v) / v).abs() < 1e-5, "{v} -> {back}");
        }
    }

    #[test]
    fn fixed_point_values_round_trip_without_trailing_zeros() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Log-uniform over the fixed-point range, both signs.
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let magnitude = 10f64.powf(-9.0 + 15.0 * u);
            let v = if state & 1 == 0 {
                magnitude
            } else {
                -magnitude
            };
            let text = fmt(v);
            let back: f64 = text
                .parse()
                .unwrap_or_else(|e| panic!("{v} -> {text:?}: {e}"));
            assert!(((back - v) / v).abs() <= 5.000_001e-6, "{v} -> {text}");
            assert!(!text.ends_with('.'), "{v} -> {text}");
            if text.contains('.') {
                assert!(!text.ends_with('0'), "{v} -> {text}");
            }
            assert!(
                !text.starts_with("00") && !text.starts_with("-00"),
                "{v} -> {text}"
            );
            let digits = text
                .bytes()
                .filter(u8::is_ascii_digit)
                .skip_while(|&d| d == b'0');
            assert!(digits.count() <= 7, "{v} -> {text}");
        }
    }
}
