async fn reserve_ticket(cmd: Reserve) -> Result<Ticket, BookingError> {
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
            ::instrument::__private::Outcome::Success => {
                ::instrument::__private::tracing::event!(
                    target : ::core::module_path!(),
                    ::instrument::__private::tracing::Level::INFO, "function" =
                    completion.function, "outcome" = completion.outcome.as_str(),
                    "latency_ms" = completion.latency_ms, "{} completed", completion
                    .function
                );
            }
            ::instrument::__private::Outcome::Cancelled => {
                ::instrument::__private::tracing::event!(
                    target : ::core::module_path!(),
                    ::instrument::__private::tracing::Level::INFO, "function" =
                    completion.function, "outcome" = completion.outcome.as_str(),
                    "latency_ms" = completion.latency_ms, "{} cancelled", completion
                    .function
                );
            }
        }
    }
    static __INSTRUMENT_SITE: ::instrument::__private::Site = ::instrument::__private::Site::new(
        ::instrument::__private::LogMode::All,
        __instrument_log,
    );
    let __instrument_span = {
        #[allow(unused_imports)]
        use ::instrument::__private::{ArgDebug as _, ArgSkip as _, ArgValue as _};
        ::instrument::__private::tracing::span!(
            target : ::core::module_path!(),
            ::instrument::__private::tracing::Level::INFO, "reserve_ticket", "function" =
            "reserve_ticket", "outcome" = ::instrument::__private::tracing::field::Empty,
            "latency_ms" = ::instrument::__private::tracing::field::Empty, "error_type" =
            ::instrument::__private::tracing::field::Empty, "cmd" = (&& &
            ::instrument::__private::ArgProbe(& cmd)).__instrument_arg(),
        )
    };
    let mut __instrument_call = ::instrument::__private::Call::start(
        &__instrument_span,
        &__INSTRUMENT_SITE,
        || "reserve_ticket",
    );
    let __instrument_future = async move {
        #[allow(unreachable_code, clippy::diverging_sub_expression)]
        if let ::core::option::Option::Some(__instrument_return) = ::core::option::Option::None::<
            Result<Ticket, BookingError>,
        > {
            return __instrument_return;
        }
        {
            let ticket = repo.insert(&cmd).await?;
            Ok(ticket)
        }
    };
    #[allow(clippy::let_unit_value)]
    let __instrument_result: Result<Ticket, BookingError> = __instrument_call
        .run(::core::pin::pin!(__instrument_future))
        .await;
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
