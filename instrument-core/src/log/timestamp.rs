//! A fast RFC 3339 UTC timestamp formatter with millisecond precision.
//!
//! Formatting a date is the most expensive part of a log line in most formatters. Here each thread
//! caches the formatted `YYYY-MM-DDTHH:MM:SS.` prefix of the current second and only the three
//! millisecond digits are written per line.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of a formatted timestamp: `2026-11-22T11:25:06.123Z`.
pub const LEN: usize = 24;

thread_local! {
    static CACHE: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// Writes `time` as `2026-11-22T11:25:06.123Z` (RFC 3339, UTC, milliseconds) into `out`.
///
/// Times before 1970 are written as the epoch; times after year 9999 as `9999-12-31T23:59:59.999Z`,
/// so the output always has the same fixed width and is always valid RFC 3339.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let mut out = Vec::new();
/// instrument_core::timestamp::write_rfc3339(&mut out, UNIX_EPOCH + Duration::from_millis(1_795_000_000_123));
/// assert_eq!(out, b"2026-11-18T11:06:40.123Z");
/// ```
#[inline]
pub fn write_rfc3339(out: &mut Vec<u8>, time: SystemTime) {
    const MAX_SECS: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let (secs, millis) = match time.duration_since(UNIX_EPOCH) {
        Ok(d) if d.as_secs() <= MAX_SECS => (d.as_secs(), d.subsec_millis()),
        Ok(_) => (MAX_SECS, 999),
        Err(_) => (0, 0),
    };
    let prefix = CACHE.with(|cache| {
        let (cached_secs, cached) = cache.get();
        if cached_secs == secs {
            cached
        } else {
            let fresh = format_prefix(secs);
            cache.set((secs, fresh));
            fresh
        }
    });
    out.extend_from_slice(&prefix);
    out.extend_from_slice(&[
        b'0' + (millis / 100) as u8,
        b'0' + (millis / 10 % 10) as u8,
        b'0' + (millis % 10) as u8,
        b'Z',
    ]);
}

/// Writes the current time; see [`write_rfc3339`].
#[inline]
pub fn write_now(out: &mut Vec<u8>) {
    write_rfc3339(out, SystemTime::now());
}

/// `YYYY-MM-DDTHH:MM:SS.` for a Unix time in seconds.
fn format_prefix(secs: u64) -> [u8; 20] {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem / 60 % 60, rem % 60);
    let mut b = [0u8; 20];
    let y = y as u64;
    b[0] = b'0' + (y / 1000 % 10) as u8;
    b[1] = b'0' + (y / 100 % 10) as u8;
    b[2] = b'0' + (y / 10 % 10) as u8;
    b[3] = b'0' + (y % 10) as u8;
    b[4] = b'-';
    two(&mut b[5..7], m as u64);
    b[7] = b'-';
    two(&mut b[8..10], d as u64);
    b[10] = b'T';
    two(&mut b[11..13], hh);
    b[13] = b':';
    two(&mut b[14..16], mm);
    b[16] = b':';
    two(&mut b[17..19], ss);
    b[19] = b'.';
    b
}

fn two(dst: &mut [u8], v: u64) {
    dst[0] = b'0' + (v / 10) as u8;
    dst[1] = b'0' + (v % 10) as u8;
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fmt(ms: u64) -> String {
        let mut out = Vec::new();
        write_rfc3339(&mut out, UNIX_EPOCH + Duration::from_millis(ms));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn known_instants() {
        assert_eq!(fmt(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(fmt(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(fmt(1_709_164_799_999), "2024-02-28T23:59:59.999Z");
        assert_eq!(fmt(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
        assert_eq!(fmt(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(fmt(u64::MAX / 4), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn every_day_for_four_centuries_is_consistent() {
        // Walk day by day and check the calendar advances by exactly one day each time.
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for day in 0..146_097i64 {
            assert_eq!(civil_from_days(day), (y, m, d), "day {day}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            d += 1;
            if d > len[m as usize - 1] {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    #[test]
    fn cache_is_refreshed_when_the_second_changes() {
        assert_eq!(fmt(1_000), "1970-01-01T00:00:01.000Z");
        assert_eq!(fmt(1_999), "1970-01-01T00:00:01.999Z");
        assert_eq!(fmt(2_000), "1970-01-01T00:00:02.000Z");
        assert_eq!(fmt(1_500), "1970-01-01T00:00:01.500Z");
    }
}
