//! "Nothing allocates when nothing matches": a counting allocator proves that PII-free text,
//! field-name lookups and replacing a keyed value allocate nothing (after the one-time
//! compilation and per-thread regex caches are warm).

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;

use instrument::redact::Redactor;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const PII_FREE: &[&str] = &[
    "",
    "reserved 2 seats for event E-2026-11 in 34 ms",
    "request id 6f1c2d3e-5957-4abc-9def-0123456789ab done",
    "arn:aws:lambda:us-east-1:201250421420:function:booking invoked",
    "took 3274 ms at 2026-11-22T11:55:00.123Z",
    r#"Booking { id: 42, seats: 2, route: "/book", status: Confirmed, user_id: 7 }"#,
    "order 3787918442491975 shipped",
    "reference 4037 3542 1337 7410 not a card",
    "sha256 ac2e6a4debdabefdce30fc952ffd670cbcea772a18cde049ac8b3a235c912396",
    "std::fmt::Debug listening on [::1]:3000 and 127.0.0.1:8080",
    "deployed version 6.18.3, oid 1.3.6.1.4.1, the bearer of this card, secret santa",
    "timestamp_ms=1715611095261 token_count=5",
];

#[test]
fn nothing_allocates_when_nothing_matches() {
    let r = Redactor::default();
    // Warm up: compile the shared regexes and fill this thread's regex caches with every rule.
    let warm = "bob@example.com 4111 1111 1111 1111 DE89370400440532013000 078-05-1120 \
                (415) 555-2671 10.0.0.1 2001:db8::1 eyJa.eyJb.c Bearer abcdefgh12345678 \
                AKIAIOSFODNN7EXAMPLE secret_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
                -----BEGIN PRIVATE KEY----- https://u:p@h password=x";
    for _ in 0..2 {
        let _ = r.redact(warm);
        for t in PII_FREE {
            let _ = r.redact(t);
        }
    }

    for t in PII_FREE {
        let mut out = Cow::Borrowed("");
        let n = allocations(|| out = r.redact(t));
        assert!(
            matches!(out, Cow::Borrowed(_)),
            "{t:?} was changed: {out:?}"
        );
        assert_eq!(n, 0, "redact({t:?}) allocated {n} times");

        let n = allocations(|| {
            let mut len = 0;
            r.redact_with(t, |s| len += s.len());
        });
        assert_eq!(n, 0, "redact_with({t:?}) allocated {n} times");
    }

    for name in [
        "password",
        "user_id",
        "X-Api-Key",
        "http.request.method",
        "seats",
    ] {
        let n = allocations(|| {
            let _ = std::hint::black_box(r.key_rule(name));
        });
        assert_eq!(n, 0, "key_rule({name:?}) allocated {n} times");
    }

    let key = r.key_rule("password").unwrap();
    let n = allocations(|| {
        let replaced = r.redact_keyed(key, "hunter2");
        assert!(matches!(replaced, Cow::Borrowed("[REDACTED:password]")));
    });
    assert_eq!(n, 0, "redact_keyed allocated {n} times");
}
