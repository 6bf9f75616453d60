//! CloudWatch metric units: the 27 strings EMF accepts, and inference from metric names.

use std::fmt;

/// A CloudWatch unit. Only these 27 are valid in EMF; anything else makes CloudWatch drop the
/// whole document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(missing_docs)]
pub enum Unit {
    Seconds,
    Microseconds,
    Milliseconds,
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Bits,
    Kilobits,
    Megabits,
    Gigabits,
    Terabits,
    Percent,
    Count,
    BytesPerSecond,
    KilobytesPerSecond,
    MegabytesPerSecond,
    GigabytesPerSecond,
    TerabytesPerSecond,
    BitsPerSecond,
    KilobitsPerSecond,
    MegabitsPerSecond,
    GigabitsPerSecond,
    TerabitsPerSecond,
    CountPerSecond,
    #[default]
    None,
}

const ALL: [(Unit, &str); 27] = [
    (Unit::Seconds, "Seconds"),
    (Unit::Microseconds, "Microseconds"),
    (Unit::Milliseconds, "Milliseconds"),
    (Unit::Bytes, "Bytes"),
    (Unit::Kilobytes, "Kilobytes"),
    (Unit::Megabytes, "Megabytes"),
    (Unit::Gigabytes, "Gigabytes"),
    (Unit::Terabytes, "Terabytes"),
    (Unit::Bits, "Bits"),
    (Unit::Kilobits, "Kilobits"),
    (Unit::Megabits, "Megabits"),
    (Unit::Gigabits, "Gigabits"),
    (Unit::Terabits, "Terabits"),
    (Unit::Percent, "Percent"),
    (Unit::Count, "Count"),
    (Unit::BytesPerSecond, "Bytes/Second"),
    (Unit::KilobytesPerSecond, "Kilobytes/Second"),
    (Unit::MegabytesPerSecond, "Megabytes/Second"),
    (Unit::GigabytesPerSecond, "Gigabytes/Second"),
    (Unit::TerabytesPerSecond, "Terabytes/Second"),
    (Unit::BitsPerSecond, "Bits/Second"),
    (Unit::KilobitsPerSecond, "Kilobits/Second"),
    (Unit::MegabitsPerSecond, "Megabits/Second"),
    (Unit::GigabitsPerSecond, "Gigabits/Second"),
    (Unit::TerabitsPerSecond, "Terabits/Second"),
    (Unit::CountPerSecond, "Count/Second"),
    (Unit::None, "None"),
];

impl Unit {
    /// The unit's EMF spelling.
    ///
    /// ```
    /// assert_eq!(instrument_emf::Unit::BytesPerSecond.as_str(), "Bytes/Second");
    /// ```
    pub fn as_str(self) -> &'static str {
        ALL[self as usize].1
    }

    /// Parses an EMF unit string; case-insensitive, also accepting common short forms
    /// (`ms`, `us`, `s`, `bytes`, `%`, `count`). `None` for anything else.
    ///
    /// ```
    /// use instrument_emf::Unit;
    /// assert_eq!(Unit::parse("Milliseconds"), Some(Unit::Milliseconds));
    /// assert_eq!(Unit::parse("ms"), Some(Unit::Milliseconds));
    /// assert_eq!(Unit::parse("furlongs"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Unit> {
        let s = s.trim();
        if let Some((unit, _)) = ALL.iter().find(|(_, name)| name.eq_ignore_ascii_case(s)) {
            return Some(*unit);
        }
        Some(match s.to_ascii_lowercase().as_str() {
            "s" | "sec" | "secs" | "second" => Unit::Seconds,
            "ms" | "millis" | "millisecond" => Unit::Milliseconds,
            "us" | "µs" | "micros" | "microsecond" => Unit::Microseconds,
            "b" | "byte" => Unit::Bytes,
            "%" | "pct" | "percentage" => Unit::Percent,
            "" => return None,
            _ => return None,
        })
    }

    /// The unit a metric name's suffix implies: `_ms`, `_us`, `_s`, `_bytes`, `_pct`, `_count`.
    ///
    /// ```
    /// use instrument_emf::Unit;
    /// assert_eq!(Unit::from_name_suffix("payload_bytes"), Some(Unit::Bytes));
    /// assert_eq!(Unit::from_name_suffix("orders"), None);
    /// ```
    pub fn from_name_suffix(name: &str) -> Option<Unit> {
        let (_, suffix) = name.rsplit_once('_')?;
        Some(match suffix {
            "ms" => Unit::Milliseconds,
            "us" => Unit::Microseconds,
            "s" => Unit::Seconds,
            "bytes" => Unit::Bytes,
            "pct" => Unit::Percent,
            "count" => Unit::Count,
            _ => return None,
        })
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_27_round_trip() {
        for (i, (unit, name)) in ALL.iter().enumerate() {
            assert_eq!(*unit as usize, i);
            assert_eq!(unit.as_str(), *name);
            assert_eq!(Unit::parse(name), Some(*unit));
        }
    }
}
