//! The SDK side: building the client from the standard AWS configuration chain, one
//! PutMetricData call per batch, and what a failure means for the batch.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use aws_sdk_cloudwatch::config::http::HttpResponse;
use aws_sdk_cloudwatch::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::config::timeout::TimeoutConfig;
use aws_sdk_cloudwatch::config::{ConfigBag, Intercept, Region, RuntimeComponents};
use aws_sdk_cloudwatch::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatch::operation::put_metric_data::PutMetricDataError;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_cloudwatch::Client;

use super::batch::Batch;
use super::datum::Values;
use super::{CloudwatchOptions, Counters};

/// What a failed PutMetricData call means for its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Throttling, a 5xx, a timeout, a connection failure: send again later.
    Retry(String),
    /// CloudWatch rejected some datum as invalid (`InvalidParameterValue` and the like): split
    /// the batch to find it.
    Invalid(String),
    /// Nothing will make this request succeed (access denied, …).
    Permanent(String),
}

/// The client: `options.client`'s configuration, or the standard AWS chain (environment,
/// profile, container and instance credentials; region; `AWS_ENDPOINT_URL*`), with our
/// endpoint, region, retry and timeout settings on top.
pub(crate) async fn build(
    base: Option<Client>,
    options: &CloudwatchOptions,
    counters: Arc<Counters>,
) -> Client {
    let mut config = match base {
        Some(client) => client.config().to_builder(),
        None => {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(region) = &options.region {
                loader = loader.region(Region::new(region.clone()));
            }
            if let Some(endpoint) = &options.endpoint {
                loader = loader.endpoint_url(endpoint.clone());
            }
            let sdk = loader.load().await;
            let mut config = aws_sdk_cloudwatch::config::Builder::from(&sdk);
            if sdk.region().is_none() && options.endpoint.is_some() {
                // A local or VPC endpoint still needs a signing region.
                config = config.region(Region::new("us-east-1"));
            }
            config
        }
    };
    if let Some(endpoint) = &options.endpoint {
        config = config.endpoint_url(endpoint.clone());
    }
    if let Some(region) = &options.region {
        config = config.region(Region::new(region.clone()));
    }
    let config = config
        // Exponential backoff with jitter for throttling, 5xx and transient errors.
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(options.sdk_max_attempts.max(1))
                .with_initial_backoff(options.initial_backoff)
                .with_max_backoff(options.max_backoff),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(options.request_timeout)
                .connect_timeout(options.request_timeout)
                .build(),
        )
        // PutMetricData bodies of 10 KB and more go gzip-compressed (the SDK's request
        // compression; never switched off here).
        .interceptor(CountWire(counters))
        .build();
    Client::from_conf(config)
}

/// Counts every HTTP request the SDK transmits (retries included) and its body bytes as sent
/// (compressed when the SDK compressed it).
#[derive(Debug)]
struct CountWire(Arc<Counters>);

impl Intercept for CountWire {
    fn name(&self) -> &'static str {
        "instrument-cloudwatch-count-wire"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let bytes = context.request().body().bytes().map_or(0, <[u8]>::len);
        self.0.http_requests.fetch_add(1, Ordering::Relaxed);
        self.0.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
        Ok(())
    }
}

fn datum(d: &super::datum::Datum) -> MetricDatum {
    let mut b = MetricDatum::builder()
        .metric_name(&*d.name)
        .timestamp(DateTime::from_millis(
            i64::try_from(d.timestamp_ms).unwrap_or(i64::MAX),
        ))
        .unit(StandardUnit::from(d.unit.as_str()))
        .storage_resolution(if d.resolution == 1 { 1 } else { 60 });
    for (name, value) in d.dimensions.iter() {
        b = b.dimensions(Dimension::builder().name(&**name).value(&**value).build());
    }
    match &d.values {
        Values::One(v) => b.value(*v),
        Values::Many { values, counts } => b
            .set_values(Some(values.clone()))
            .set_counts(Some(counts.clone())),
    }
    .build()
}

/// Sends one batch as one PutMetricData request.
pub(crate) async fn put(client: &Client, batch: &Batch) -> Result<(), Failure> {
    let data: Vec<MetricDatum> = batch.datums.iter().map(datum).collect();
    client
        .put_metric_data()
        .namespace(batch.namespace())
        .set_metric_data(Some(data))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(&e))
}

const THROTTLING: [&str; 6] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
];

fn classify(err: &SdkError<PutMetricDataError, HttpResponse>) -> Failure {
    match err {
        SdkError::ServiceError(ctx) => {
            let e = ctx.err();
            let status = ctx.raw().status().as_u16();
            let code = e.code().unwrap_or_default();
            let message = format!(
                "HTTP {status} {code}: {}",
                e.message().unwrap_or("no message")
            );
            if matches!(
                e,
                PutMetricDataError::InvalidParameterValueException(_)
                    | PutMetricDataError::InvalidParameterCombinationException(_)
                    | PutMetricDataError::MissingRequiredParameterException(_)
            ) || code.starts_with("InvalidParameter")
                || code == "MissingParameter"
            {
                Failure::Invalid(message)
            } else if THROTTLING.contains(&code)
                || matches!(e, PutMetricDataError::InternalServiceFault(_))
                || status >= 500
                || status == 429
            {
                Failure::Retry(message)
            } else {
                Failure::Permanent(message)
            }
        }
        // Timeouts, connection failures, unreadable responses, and construction failures
        // (e.g. credentials not yet available): transient, within our bounded attempts.
        _ => Failure::Retry(DisplayErrorContext(err).to_string()),
    }
}
