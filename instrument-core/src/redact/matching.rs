//! Finding PII in a text: the prefilter, the rules, and resolving overlapping matches.

use super::*;

#[derive(Clone)]
pub(super) struct ValueRule {
    pub(super) name: String,
    pub(super) replacement: String,
    pub(super) method: Method,
    pub(super) priority: u8,
    pub(super) kind: Kind,
}

impl ValueRule {
    /// A rule whose replacement is `[REDACTED:<name>]`.
    pub(super) fn new(name: &str, method: Method, priority: u8, kind: Kind) -> ValueRule {
        ValueRule {
            name: name.to_string(),
            replacement: format!("[REDACTED:{name}]"),
            method,
            priority,
            kind,
        }
    }
}

#[derive(Clone)]
pub(super) enum Kind {
    Builtin(Builtin),
    /// A vendor token rule (built in or from `RedactConfig::tokens`), found by the token scan.
    Token,
    Custom {
        regex: Regex,
        /// The `value` capture group, when the pattern has one.
        group: Option<usize>,
    },
}

/// Which rule a match belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    Value(u16),
    Key(u16),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Hit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) who: Who,
}

pub(super) type Hits = SmallVec<[Hit; 8]>;

impl Redactor {
    pub(super) fn find_unfiltered(&self, text: &str) -> Hits {
        let mut hits = Hits::new();
        let b = text.as_bytes();
        if self.key_values_in_text {
            for i in 0..b.len() {
                if b[i] == b'\n' {
                    self.keys.table_at(b, i, &mut |rule, span| {
                        push(&mut hits, text, span, Who::Key(rule as u16))
                    });
                } else if matches!(b[i], b'=' | b':' | b'>')
                    || (b[i] == b'-' && i > 0 && b[i - 1] == b'-')
                {
                    if let Some((rule, span)) = self.keys.key_value_at(b, i) {
                        push(&mut hits, text, span, Who::Key(rule as u16));
                    }
                }
            }
        }
        self.run_rules(text, self.builtin_mask, None, &mut hits);
        if !hits.is_empty() {
            self.resolve(text, &mut hits);
        }
        hits
    }

    /// Whether the prefilter alone rules out every match: no enabled built-in rule is
    /// plausible, no `key=value` pair names a key rule, and there is no custom rule. The common
    /// case for log text, decided in one pass with no hit list built.
    #[inline]
    pub(super) fn surely_clean(&self, text: &str) -> bool {
        if self.has_custom || self.tokens_always {
            return false;
        }
        let b = text.as_bytes();
        let want_kv = self.key_values_in_text && !self.keys.is_empty();
        if self.builtin_mask == 0 && !want_kv {
            return true;
        }
        let keys = &self.keys;
        let mut key_value = false;
        let flags = prefilter::scan(
            b,
            want_kv,
            |i| {
                if key_value {
                    return;
                }
                if b[i] == b'\n' {
                    keys.table_at(b, i, &mut |_, _| key_value = true);
                } else {
                    key_value = keys.key_value_at(b, i).is_some();
                }
            },
            None,
        );
        flags & self.builtin_mask == 0 && !key_value
    }

    /// All validated, merged matches of `text`, in order.
    pub(super) fn find(&self, text: &str) -> Hits {
        self.find_flagged(text).0
    }

    /// [`Redactor::find`], and the built-in rules the prefilter found plausible.
    pub(super) fn find_flagged(&self, text: &str) -> (Hits, u32) {
        let mut hits = Hits::new();
        let b = text.as_bytes();
        let want_kv = self.key_values_in_text && !self.keys.is_empty();
        let mut flags = 0;
        let mut bounds = prefilter::NO_BOUNDS;
        if self.builtin_mask != 0 || want_kv {
            let keys = &self.keys;
            flags = prefilter::scan(
                b,
                want_kv,
                |i| {
                    if b[i] == b'\n' {
                        keys.table_at(b, i, &mut |rule, span| {
                            push(&mut hits, text, span, Who::Key(rule as u16))
                        });
                    } else if let Some((rule, span)) = keys.key_value_at(b, i) {
                        push(&mut hits, text, span, Who::Key(rule as u16));
                    }
                },
                Some(&mut bounds),
            );
        }
        self.run_rules(text, flags & self.builtin_mask, Some(&bounds), &mut hits);
        if !hits.is_empty() {
            self.resolve(text, &mut hits);
        }
        (hits, flags)
    }

    /// Runs the regex and validator of every built-in rule in `todo` and of every custom rule;
    /// a built-in rule's search runs between the first and the last position at which the
    /// prefilter saw a candidate of it start (`bounds`; the whole text without).
    pub(super) fn run_rules(
        &self,
        text: &str,
        mut todo: u32,
        bounds: Option<&prefilter::Bounds>,
        hits: &mut Hits,
    ) {
        if todo & prefilter::TOKENS != 0 || self.tokens_always {
            todo &= !prefilter::TOKENS;
            if let Some(scanner) = &self.tokens {
                scanner.find(text, &mut |slot, r| push(hits, text, r, Who::Value(slot)));
            }
        }
        while todo != 0 {
            let bit = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            let slot = self.builtin_slot[bit];
            if let Some(ValueRule {
                kind: Kind::Builtin(b),
                ..
            }) = self.rules.get(usize::from(slot))
            {
                let (from, until) = bounds.map_or((0, text.len()), |l| l[bit]);
                b.find(text, from, until, &mut |r| {
                    push(hits, text, r, Who::Value(slot))
                });
            }
        }
        if self.has_custom {
            for (i, rule) in self.rules.iter().enumerate() {
                if let Kind::Custom { regex, group } = &rule.kind {
                    let who = Who::Value(i as u16);
                    match group {
                        None => {
                            for m in regex.find_iter(text) {
                                push(hits, text, m.range(), who);
                            }
                        }
                        Some(g) => {
                            for c in regex.captures_iter(text) {
                                if let Some(m) = c.get(*g) {
                                    push(hits, text, m.range(), who);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    pub(super) fn priority(&self, who: Who) -> u8 {
        match who {
            Who::Value(i) => self.rules[usize::from(i)].priority,
            Who::Key(_) => KEY_PRIORITY,
        }
    }

    /// Drops matches that overlap an existing marker (inside it, or running into it: replacing
    /// those would break the marker, and a text's markers would read differently on every
    /// pass) and values already masked, then merges overlapping matches: the match covering
    /// the whole overlap with the highest priority wins, else the highest-priority match is
    /// applied to the whole overlap (never leak a byte).
    pub(super) fn resolve(&self, text: &str, hits: &mut Hits) {
        let b = text.as_bytes();
        let mut markers: SmallVec<[Range<usize>; 4]> = SmallVec::new();
        for s in memchr::memchr_iter(b'[', b) {
            for (k, m) in MARKERS.iter().enumerate() {
                if b[s..].starts_with(m) {
                    if let Some(len) = marker_len(&b[s..], m.len(), k == 1) {
                        markers.push(s..s + len);
                    }
                }
            }
        }
        hits.retain(|h| {
            let on_marker = markers.iter().any(|m| m.start < h.end && h.start < m.end);
            let masked = self
                .max_keep
                .is_some_and(|keep| already_masked(&text[h.start..h.end], keep));
            !on_marker && !masked
        });
        hits.sort_unstable_by(|x, y| x.start.cmp(&y.start).then(y.end.cmp(&x.end)));
        let mut out = 0;
        let mut i = 0;
        while i < hits.len() {
            let start = hits[i].start;
            let mut end = hits[i].end;
            let mut j = i + 1;
            while j < hits.len() && hits[j].start < end {
                end = end.max(hits[j].end);
                j += 1;
            }
            let cluster = &hits[i..j];
            let covering = cluster
                .iter()
                .filter(|h| h.start == start && h.end == end)
                .max_by_key(|h| self.priority(h.who));
            let best = covering
                .or_else(|| cluster.iter().max_by_key(|h| self.priority(h.who)))
                .map_or(hits[i].who, |h| h.who);
            hits[out] = Hit {
                start,
                end,
                who: best,
            };
            out += 1;
            i = j;
        }
        hits.truncate(out);
    }
}

/// Adds a match, widened to character boundaries; empty spans are ignored.
pub(super) fn push(hits: &mut Hits, text: &str, span: Range<usize>, who: Who) {
    let (mut start, mut end) = (span.start.min(text.len()), span.end.min(text.len()));
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if start < end {
        hits.push(Hit { start, end, who });
    }
}
