//! Dimension and property contexts: inherited from the nearest parent span that has one,
//! extended by a span's own `dimension.*` fields, split per error type.

use std::cell::RefCell;
use std::sync::Arc;

use tracing_core::{Metadata, Subscriber};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::state::EmfState;
use super::EmfSpan;
use crate::aggregator::Context;
use crate::dropped::DropReason;
use crate::fields::Collected;

pub(super) struct ContextEntry {
    pub(super) layer: usize,
    pub(super) meta: usize,
    pub(super) parent: u32,
    pub(super) key: String,
    pub(super) context: Arc<Context>,
}

/// The most contexts a thread remembers (then the oldest goes).
const CACHE_ENTRIES: usize = 64;

thread_local! {
    /// The contexts this thread made last, by (layer, callsite, parent context, dimension
    /// values): a span with the same dimensions as a recent one finds its context without the
    /// aggregator's lock.
    static CONTEXTS: RefCell<(Vec<ContextEntry>, String)> = const { RefCell::new((Vec::new(), String::new())) };
}

impl EmfState {
    /// The context of the nearest ancestor that has one, or the root.
    pub(super) fn parent_context<S>(&self, span: Option<SpanRef<'_, S>>) -> Arc<Context>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(span) = span {
            for s in span.scope() {
                if let Some(data) = s.extensions().get::<EmfSpan>() {
                    return data.context.clone();
                }
            }
        }
        self.root()
    }

    /// `parent` with the dimensions and properties of `collected`.
    pub(super) fn child_context(
        &self,
        meta: &'static Metadata<'static>,
        parent: Arc<Context>,
        collected: &Collected,
    ) -> Arc<Context> {
        if collected.dims.is_empty() && collected.props.is_empty() {
            return parent;
        }
        let layer = self.id();
        let meta_key = meta as *const _ as usize;
        let hit = CONTEXTS
            .try_with(|cell| {
                let (entries, key) = &mut *cell.borrow_mut();
                key.clear();
                for (name, range) in collected.dims.iter().chain(&collected.props) {
                    key.push_str(name);
                    key.push('\0');
                    key.push_str(collected.str(*range));
                    key.push('\0');
                }
                entries
                    .iter()
                    .find(|e| {
                        e.layer == layer
                            && e.meta == meta_key
                            && e.parent == parent.id
                            && e.key == *key
                    })
                    .map(|e| e.context.clone())
            })
            .ok()
            .flatten();
        if let Some(context) = hit {
            return context;
        }
        let mut def = parent.def.clone();
        for (name, range) in &collected.dims {
            def = def.with_dimension(name, &self.dimension_value(collected.str(*range)));
        }
        for (name, range) in &collected.props {
            // Request and trace IDs are identifiers, not PII.
            def = def.with_property(name, collected.str(*range));
        }
        let Some(context) = self.aggregator.context(def) else {
            self.dropped.add(DropReason::TooManyCombinations, 1);
            return parent;
        };
        let _ = CONTEXTS.try_with(|cell| {
            let (entries, key) = &mut *cell.borrow_mut();
            if entries.len() >= CACHE_ENTRIES {
                entries.remove(0);
            }
            entries.push(ContextEntry {
                layer,
                meta: meta_key,
                parent: parent.id,
                key: key.clone(),
                context: context.clone(),
            });
        });
        context
    }

    /// A dimension value as published: redacted, when redaction is on (span dimensions and
    /// runtime metrics' dimensions alike).
    pub(super) fn dimension_value(&self, value: &str) -> String {
        match &self.redactor {
            Some(r) => r.redact(value).into_owned(),
            None => value.to_string(),
        }
    }

    pub(super) fn error_context(
        &self,
        base: &Arc<Context>,
        error_type: &str,
    ) -> Option<Arc<Context>> {
        if !self.error_type_dimension {
            return None;
        }
        let known = self
            .error_types
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(error_type);
        let error_type = if known {
            error_type
        } else {
            let mut seen = self.error_types.write().unwrap_or_else(|e| e.into_inner());
            if seen.len() < self.max_error_types {
                seen.insert(error_type.into());
                error_type
            } else {
                "other"
            }
        };
        match self.aggregator.error_context(base, error_type) {
            Some(c) => Some(c),
            None => {
                self.dropped.add(DropReason::TooManyCombinations, 1);
                None
            }
        }
    }
}
