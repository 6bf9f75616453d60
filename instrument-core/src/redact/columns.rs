//! Tables inside text (CSV, TSV, `;`- or `|`-separated): a header row that names a secret
//! column (`user,password,email`) makes that column's cell in every following row a value of
//! the key rule.

use std::ops::Range;

use super::keys::KeySet;
use super::plausible::plausible_value;

/// The most columns a header may have.
const MAX_COLUMNS: usize = 64;

impl KeySet {
    /// At the `\n` at byte `i`: if the line ending there is a header row naming a secret column,
    /// calls `emit(rule, span)` for that column's cell in each row below it.
    pub(crate) fn table_at(&self, b: &[u8], i: usize, emit: &mut dyn FnMut(usize, Range<usize>)) {
        let line_start = b[..i]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let mut header = &b[line_start..i];
        if header.last() == Some(&b'\r') {
            header = &header[..header.len() - 1];
        }
        let Some(delim) = [b',', b'\t', b';', b'|']
            .into_iter()
            .find(|&d| memchr::memchr(d, header).is_some())
        else {
            return;
        };
        // Which columns are secret, by rule; every header cell must be a name.
        let mut secret: [Option<usize>; MAX_COLUMNS] = [None; MAX_COLUMNS];
        let mut columns = 0;
        let mut any = false;
        for cell in cells(header, delim) {
            let name = unquote(&header[cell]);
            if columns == MAX_COLUMNS || !is_name(name) {
                return;
            }
            secret[columns] = self.find(name);
            any |= secret[columns].is_some();
            columns += 1;
        }
        if !any || columns < 2 {
            return;
        }
        let mut row = i + 1;
        while row < b.len() {
            let row_end = memchr::memchr(b'\n', &b[row..]).map_or(b.len(), |e| row + e);
            let mut n = 0;
            let mut spans: [Range<usize>; MAX_COLUMNS] = std::array::from_fn(|_| 0..0);
            for cell in cells(&b[row..row_end], delim) {
                if n == MAX_COLUMNS {
                    return;
                }
                spans[n] = row + cell.start..row + cell.end;
                n += 1;
            }
            if n != columns {
                return;
            }
            for (col, span) in spans[..n].iter().enumerate() {
                if let Some(rule) = secret[col] {
                    let span = trim(b, span.clone());
                    if span.start < span.end && plausible_value(&b[span.clone()], true) {
                        emit(rule, span);
                    }
                }
            }
            row = row_end + 1;
        }
    }
}

/// The cells of a row (ranges into `row`), `"quoted"` cells kept whole.
fn cells(row: &[u8], delim: u8) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut k = 0;
    let mut done = row.is_empty();
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let start = k;
        let mut quoted = false;
        while k < row.len() {
            match row[k] {
                b'"' => quoted = !quoted,
                c if c == delim && !quoted => break,
                _ => {}
            }
            k += 1;
        }
        let cell = start..k;
        if k >= row.len() {
            done = true;
        }
        k += 1;
        Some(cell)
    })
}

/// A cell without its spaces, `\r` and quotes.
fn trim(b: &[u8], mut r: Range<usize>) -> Range<usize> {
    while r.start < r.end && matches!(b[r.start], b' ' | b'\t' | b'"') {
        r.start += 1;
    }
    while r.end > r.start && matches!(b[r.end - 1], b' ' | b'\t' | b'"' | b'\r') {
        r.end -= 1;
    }
    r
}

fn unquote(cell: &[u8]) -> &[u8] {
    let cell = cell.trim_ascii();
    cell.strip_prefix(b"\"")
        .and_then(|c| c.strip_suffix(b"\""))
        .unwrap_or(cell)
}

/// A column name: a word with `_ - . ` and digits, starting with a letter, at most 64 bytes.
fn is_name(cell: &[u8]) -> bool {
    !cell.is_empty()
        && cell.len() <= 64
        && cell[0].is_ascii_alphabetic()
        && cell
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b' '))
}
