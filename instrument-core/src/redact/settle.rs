//! Settling matches to a fixpoint: a match frees its neighbours.
//!
//! A validator judges a candidate by the bytes around it: `+44 20 7946 0958` glued to a digit is
//! no phone number, `…==` glued to a letter no base64 token. When that neighbour is itself a
//! match, the redacted text holds a marker there, and a second scan would accept the candidate:
//! `4111111111111111+442079460958` is a card and a phone number, and a chain of glued values
//! (`+2222222222222+2222222222229…`) frees one link per scan. So that one call finds everything
//! a second call would, whatever the rules' methods (a masked card ends in readable digits,
//! which must not hide the phone number glued to it), the matches are settled on the *marked*
//! text, where every match stands as its `[REDACTED:<rule>]` marker: it is scanned again and
//! what is new is mapped back onto the input, until nothing is. The result is then written once,
//! with each rule's method.

use super::*;

/// A piece of a marked text, starting at `marked`: a copy of `input..input_end`, or (`marker`)
/// the marker standing for the match `input..input_end`.
struct Piece {
    marked: usize,
    input: usize,
    input_end: usize,
    marker: bool,
}

impl Redactor {
    /// Writes `text` with `hits` (and every match they free) replaced. `plausible`: the built-in
    /// rules the prefilter found plausible in `text` (all bits when unknown).
    pub(super) fn settle(
        &self,
        text: &str,
        mut hits: Hits,
        plausible: u32,
        find: impl Fn(&Redactor, &str) -> Hits,
    ) -> String {
        let unchanged = self.context_unchanged(text, &hits, plausible);
        if !unchanged {
            self.settle_marked(text, &mut hits, &find);
        }
        let mut out = String::with_capacity(text.len() + 16 * hits.len());
        self.emit(text, &hits, &mut |s| out.push_str(s));
        if self.only_markers || unchanged {
            return out;
        }
        // A masked value keeps some of its characters and a hash marker is longer than the
        // rule's marker, so the written text can differ from the marked one in what a rule
        // sees: it gets the same settling, to be sure.
        for _ in 0..MAX_EXTRA_PASSES {
            let more = find(self, &out);
            if more.is_empty() {
                break;
            }
            let mut next = String::with_capacity(out.len() + 16 * more.len());
            self.emit(&out, &more, &mut |s| next.push_str(s));
            out = next;
        }
        out
    }

    /// Adds to `hits` every match that the marked text (each hit as its rule's marker) holds
    /// and `text` did not, until there are none.
    fn settle_marked(&self, text: &str, hits: &mut Hits, find: &impl Fn(&Redactor, &str) -> Hits) {
        let mut marked = String::with_capacity(text.len() + 16 * hits.len());
        let mut pieces: SmallVec<[Piece; 16]> = SmallVec::new();
        for _ in 0..MAX_EXTRA_PASSES {
            marked.clear();
            pieces.clear();
            let mut pos = 0;
            let mut copy = |marked: &mut String, from: usize, to: usize, marker: Option<&str>| {
                pieces.push(Piece {
                    marked: marked.len(),
                    input: from,
                    input_end: to,
                    marker: marker.is_some(),
                });
                marked.push_str(marker.unwrap_or(&text[from..to]));
            };
            for h in hits.iter() {
                if pos < h.start {
                    copy(&mut marked, pos, h.start, None);
                }
                copy(&mut marked, h.start, h.end, Some(self.marker(h.who)));
                pos = h.end;
            }
            if pos < text.len() {
                copy(&mut marked, pos, text.len(), None);
            }
            let more = find(self, &marked);
            if more.is_empty() {
                return;
            }
            let covered = |hits: &Hits| hits.iter().map(|h| h.end - h.start).sum::<usize>();
            let before = covered(hits);
            for m in more {
                hits.push(Hit {
                    start: input_offset(&pieces, m.start, false),
                    end: input_offset(&pieces, m.end, true),
                    who: m.who,
                });
            }
            self.resolve(text, hits);
            if covered(hits) == before {
                return; // nothing new: the marked text would be the same
            }
        }
    }

    /// The `[REDACTED:<rule>]` marker of a rule, whatever its method.
    fn marker(&self, who: Who) -> &str {
        match who {
            Who::Value(i) => &self.rules[usize::from(i)].replacement,
            Who::Key(i) => &self.keys.rules[usize::from(i)].replacement,
        }
    }

    /// Whether replacing `hits` cannot have changed what any rule sees elsewhere in `text`, so
    /// that a scan of the marked text would find nothing new:
    ///
    /// * every match stands between bytes that end a bare value (spaces, quotes, closing
    ///   brackets, `,`, `;`, `&`, `<`, `>`): no earlier value ran into it, and no later
    ///   candidate starts glued to it. An `=` or `:` before a match counts too unless a rule
    ///   whose candidates can end in one is plausible in `text` (base64 padding after `Bearer`
    ///   or `Basic`, a vendor token, an IPv6 address); a URL's password is bounded by its own
    ///   `:` and `@` when the userinfo holds no other `@`;
    /// * no match spans a line break (tables and YAML blocks are read by lines), none stands
    ///   inside a URL's userinfo candidate (`scheme://…`, up to its last `@`), and none has a
    ///   digit group one to three blanks or dashes away (card, phone and SSN candidates run
    ///   across those);
    /// * nothing reads context at a distance that a shorter text could bring closer: an XML
    ///   `value=` looks back for its tag's `key=`, and a `Bearer` whose token was not redacted
    ///   looks back for `Authorization`.
    ///
    /// Custom rules see any context, and a masked-looking value (kept as already masked) can
    /// stop looking masked once a match inside it is replaced: with those, the scan always runs.
    fn context_unchanged(&self, text: &str, hits: &[Hit], plausible: u32) -> bool {
        if self.has_custom || self.tokens_always || self.max_keep.is_some() {
            return false;
        }
        let b = text.as_bytes();
        if memchr::memchr(b'<', b).is_some() {
            return false;
        }
        let hard = |c: Option<&u8>| c.is_none_or(|&c| key_values::ends_bare(c));
        let url = self.builtin_slot[Builtin::UrlCredentials as usize];
        // Whether a rule with candidates that end in `=` or `:` is plausible.
        let ends_in_glue = Builtin::Bearer.bit()
            | Builtin::BasicAuth.bit()
            | Builtin::Ipv6.bit()
            | prefilter::TOKENS;
        let glue = plausible & ends_in_glue != 0;
        // A URL's userinfo candidate runs over every byte but whitespace and `/?#"'<>[]` up to
        // its last `@`: a marker (with its brackets) inside that run ends it earlier, and the
        // part before can become a match of its own.
        let urls = memchr::memmem::find(b, b"://").is_some();
        let in_userinfo = |start: usize| {
            let stop = b[..start].iter().rposition(|&c| {
                c.is_ascii_whitespace()
                    || matches!(
                        c,
                        b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'[' | b']'
                    )
            });
            matches!(stop, Some(p) if p >= 2 && &b[p - 2..=p] == b"://")
        };
        for h in hits {
            if memchr::memchr(b'\n', &b[h.start..h.end]).is_some() {
                return false;
            }
            if h.who == Who::Value(url) {
                // The password of the userinfo `://…:password@` is bounded by its own `:` and
                // `@`, unless an earlier `@` is in the userinfo too: then the candidate ran to
                // the last `@`, and the marker's brackets (which end a userinfo) let a second
                // scan read the part before the first `@` as a user token.
                let scheme_end = memchr::memmem::rfind(&b[..h.start], b"://").map_or(0, |i| i + 3);
                if memchr::memchr(b'@', &b[scheme_end..h.start]).is_some() {
                    return false;
                }
                continue;
            }
            if urls && in_userinfo(h.start) {
                return false;
            }
            let before = h.start.checked_sub(1).map(|p| &b[p]);
            let left = hard(before) || (matches!(before, Some(b'=' | b':')) && !glue);
            if !left || !hard(b.get(h.end)) || in_digit_run(b, h.start, h.end) {
                return false;
            }
        }
        plausible & Builtin::Bearer.bit() == 0 || !bearer_token_kept(b, hits)
    }
}

/// Whether a digit group stands one to three blanks or dashes before `start` or after `end`:
/// card, phone and SSN candidates run across those, so a match there shortens the run they
/// judge (a card the validator refused inside a long run of groups can stand in a shorter one).
fn in_digit_run(b: &[u8], start: usize, end: usize) -> bool {
    let sep = |c: u8| matches!(c, b' ' | b'\t' | b'-');
    let left = b[..start].iter().rev().take(4).position(|&c| !sep(c));
    let right = b[end..].iter().take(4).position(|&c| !sep(c));
    matches!(left, Some(n) if n > 0 && b[start - n - 1].is_ascii_digit())
        || matches!(right, Some(n) if n > 0 && b[end + n].is_ascii_digit())
}

/// The input offset of offset `at` of a marked text: inside a marker, the start (or, for an
/// `end`, the end) of the match it stands for.
fn input_offset(pieces: &[Piece], at: usize, end: bool) -> usize {
    let i = if end {
        pieces.partition_point(|p| p.marked < at)
    } else {
        pieces.partition_point(|p| p.marked <= at)
    };
    let Some(p) = i.checked_sub(1).and_then(|i| pieces.get(i)) else {
        return 0;
    };
    match (p.marker, end) {
        (true, false) => p.input,
        (true, true) => p.input_end,
        (false, _) => (p.input + (at - p.marked)).min(p.input_end),
    }
}

/// Whether `b` holds a `Bearer` (`bearer`, `BEARER`) and blanks whose token is not redacted:
/// a candidate that a shorter text could bring closer to its `Authorization` header.
fn bearer_token_kept(b: &[u8], hits: &[Hit]) -> bool {
    use memchr::memmem::Finder;
    static FINDERS: OnceLock<[Finder<'static>; 2]> = OnceLock::new();
    FINDERS
        .get_or_init(|| [Finder::new(b"earer"), Finder::new(b"EARER")])
        .iter()
        .any(|f| {
            f.find_iter(b).any(|p| {
                let mut t = p + 5;
                while t < b.len() && (b[t] == b' ' || b[t] == b'\t') {
                    t += 1;
                }
                t > p + 5 && t < b.len() && !hits.iter().any(|h| h.start <= t && t < h.end)
            })
        })
}
