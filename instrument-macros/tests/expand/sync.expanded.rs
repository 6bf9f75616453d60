/// Reserves seats.
pub fn reserve_ticket(seats: u32) -> Result<Ticket, BookingError> {
    fn __instrument_log(completion: &::instrument::__private::Completion<'_>) {
        match completion.outcome {
            ::instrument::__private::Outcome::Error => {
                ::instrument::__private::tracing::event!(
                    target : ::core::module_path!(),
                    ::instrument::__private::tracing::Level::WARN, "function" =
                    completion.function, "outcome" = completion.outcome.as_str(),
                    "latency_ms" = completion.latency_ms, "error_type" = completion
                    .error_type, "error" = completion.error(), "error_message" =
                    completion.error_message(), "{} failed", completion.function
                );
            }
            ::instrument::__private::Outcome::Panic => {
                ::instrument::__private::tracing::event!(
                    target : ::core::module_path!(),
                    ::instrument::__private::tracing::Level::ERROR, "function" =
                    completion.function, "outcome" = completion.outcome.as_str(),
                    "latency_ms" = completion.latency_ms, "error_type" = completion
                    .error_type, "{} panicked", completion.function
                );
            }
            ::instrument::__private::Outcome::Success
            | ::instrument::__private::Outcome::Cancelled => {}
        }
    }
    static __INSTRUMENT_SITE: ::instrument::__private::Site = ::instrument::__private::Site::new(
        ::instrument::__private::LogMode::Errors,
        __instrument_log,
    );
    static __INSTRUMENT_CALLSITE: ::instrument::__private::tracing::callsite::DefaultCallsite = ::instrument::__private::tracing::callsite::DefaultCallsite::new(
        &__INSTRUMENT_META,
    );
    static __INSTRUMENT_META: ::instrument::__private::tracing::Metadata<'static> = ::instrument::__private::tracing::Metadata::new(
        "reserve_ticket",
        ::core::module_path!(),
        ::instrument::__private::tracing::Level::INFO,
        ::core::option::Option::Some(::core::file!()),
        ::core::option::Option::Some(::core::line!()),
        ::core::option::Option::Some(::core::module_path!()),
        ::instrument::__private::tracing::field::FieldSet::new(
            &[
                "function",
                "outcome",
                "latency_ms",
                "error_type",
                "dimension.operation",
                "seats",
            ],
            ::instrument::__private::tracing::callsite::Identifier(
                &__INSTRUMENT_CALLSITE,
            ),
        ),
        ::instrument::__private::tracing::metadata::Kind::SPAN,
    );
    static __INSTRUMENT_DEFERRED: ::instrument::__private::DeferredSite = ::instrument::__private::DeferredSite::new(
        &__INSTRUMENT_CALLSITE,
        &__INSTRUMENT_SITE,
    );
    #[allow(unused_imports)]
    use ::instrument::__private::{
        ArgDebug as _, ArgSkip as _, ArgValue as _, CaptureNone as _, CaptureValue as _,
    };
    let __instrument_fields;
    let mut __instrument_call = if !__INSTRUMENT_DEFERRED.enabled() {
        ::instrument::__private::SyncCall::disabled()
    } else {
        let __instrument_captured = (
            (&&::instrument::__private::CopyProbe(&seats)).__instrument_capture(),
        );
        __instrument_fields = ::instrument::__private::Deferred::new(
            __instrument_captured,
            true && ::instrument::__private::Captured::copied(&__instrument_captured.0),
            |
                __instrument_captured: &_,
                __instrument_function: &'static str,
                __instrument_render: &mut dyn ::core::ops::FnMut(
                    &::instrument::__private::tracing::field::ValueSet<'_>,
                )|
            {
                let (__instrument_arg0,) = __instrument_captured;
                ::instrument::__private::value_set(
                    &__INSTRUMENT_META,
                    [
                        ::core::option::Option::Some(
                            &__instrument_function
                                as &dyn ::instrument::__private::tracing::Value,
                        ),
                        ::core::option::Option::None,
                        ::core::option::Option::None,
                        ::core::option::Option::None,
                        ::core::option::Option::Some(
                            &"reserve" as &dyn ::instrument::__private::tracing::Value,
                        ),
                        ::core::option::Option::Some(
                            &(&&&::instrument::__private::ArgProbe(
                                ::instrument::__private::Captured::get(__instrument_arg0),
                            ))
                                .__instrument_arg()
                                as &dyn ::instrument::__private::tracing::Value,
                        ),
                    ],
                    __instrument_render,
                );
            },
        );
        if ::instrument::__private::Fields::complete(&__instrument_fields) {
            ::instrument::__private::SyncCall::deferrable(
                &__INSTRUMENT_DEFERRED,
                || "reserve_ticket",
                &__instrument_fields,
            )
        } else {
            ::instrument::__private::SyncCall::spanned(
                {
                    #[allow(unused_imports)]
                    use ::instrument::__private::{
                        ArgDebug as _, ArgSkip as _, ArgValue as _,
                    };
                    ::instrument::__private::tracing::span!(
                        target : ::core::module_path!(),
                        ::instrument::__private::tracing::Level::INFO, "reserve_ticket",
                        "function" = "reserve_ticket", "outcome" =
                        ::instrument::__private::tracing::field::Empty, "latency_ms" =
                        ::instrument::__private::tracing::field::Empty, "error_type" =
                        ::instrument::__private::tracing::field::Empty,
                        "dimension.operation" = "reserve", "seats" = (&& &
                        ::instrument::__private::ArgProbe(& seats)).__instrument_arg(),
                    )
                },
                &__INSTRUMENT_DEFERRED,
                || "reserve_ticket",
            )
        }
    };
    #[allow(clippy::let_unit_value)]
    let __instrument_result = __instrument_call
        .run::<
            Result<Ticket, BookingError>,
            _,
        >(move || {
            let ticket = book(seats)?;
            Ok(ticket)
        });
    __instrument_call
        .finish(|| {
            #[allow(unused_imports)]
            use ::instrument::__private::{
                ProbeAnyError as _, ProbeAsDynError as _, ProbeAsDynSendError as _,
                ProbeDebugError as _, ProbeDisplayError as _, ProbeErrorType as _,
                ProbeNoErrorType as _, ProbeNotResult as _, ProbeOkOther as _,
                ProbeOkOutcome as _, ProbeStdError as _, ProbeTrackOutcome as _,
            };
            (&&&&&&&&::instrument::__private::Probe(&__instrument_result))
                .__instrument_outcome()
                .or_ok(
                    (&&::instrument::__private::OkProbe(&__instrument_result))
                        .__instrument_ok_outcome(),
                )
                .named(
                    (&&::instrument::__private::NameProbe(&__instrument_result))
                        .__instrument_error_type(),
                )
        });
    __instrument_result
}
