//! The builder's settings that shape metrics: custom and default dimensions, and rollups
//! (see the README's "Shaping metrics").

use instrument_core::config::table;
use tracing_subscriber::fmt::MakeWriter;

use super::Builder;

impl<W> Builder<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    /// A custom dimension of every metric (repeatable; `INSTRUMENT_DIMENSIONS=
    /// "InstanceId=i-123,Team=payments"` in the environment, which code replaces): an
    /// `InstanceId` or `Environment` without a span around every task.
    ///
    /// ```
    /// let capture = instrument::testing::Capture::with(|b| {
    ///     b.service("fleet").dimension("InstanceId", "i-0abc").dimension("Team", "payments")
    /// });
    /// capture.run(|| tracing::info!(counter.jobs = 1));
    /// let doc = &capture.emf_documents()[0];
    /// assert_eq!(doc["InstanceId"], "i-0abc");
    /// assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0], serde_json::json!(["service", "InstanceId", "Team"]));
    /// ```
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let mut all = self.settings.dimensions.take().unwrap_or_default();
        all.push(format!("{}={}", name.into(), value.into()));
        self.setting(&table::DIMENSIONS, all)
    }

    /// Which of `service`, `environment` and the custom dimensions are dimensions of every
    /// metric, in order, each optionally under another key: `"environment as Environment"`.
    /// An empty list publishes every metric without default dimensions
    /// (`INSTRUMENT_DEFAULT_DIMENSIONS`, `none` there). Naming one that has no value is an error
    /// at `build`/`install`.
    ///
    /// ```
    /// let capture = instrument::testing::Capture::with(|b| {
    ///     b.service("booking")
    ///         .environment("prod")
    ///         .dimension("InstanceId", "i-0abc")
    ///         .default_dimensions(["environment as Environment", "InstanceId"])
    /// });
    /// capture.run(|| tracing::info!(counter.jobs = 1));
    /// let doc = &capture.emf_documents()[0];
    /// assert_eq!(doc["Environment"], "prod");
    /// assert!(doc.get("service").is_none());
    /// assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0], serde_json::json!(["Environment", "InstanceId"]));
    /// ```
    pub fn default_dimensions<I, D>(self, dimensions: I) -> Self
    where
        I: IntoIterator<Item = D>,
        D: Into<String>,
    {
        let items = dimensions.into_iter().map(Into::into).collect();
        self.setting(&table::DEFAULT_DIMENSIONS, items)
    }

    /// The dimension sets every metric is also published under (`INSTRUMENT_ROLLUPS`, default
    /// `[[]]`): each is the default dimensions plus those listed that the metric has. The
    /// default publishes every metric under the default dimensions alone too, so an HTTP
    /// API's error-rate alarm or a p95 over every route reads one series; `[[], ["route"]]`
    /// adds one per route; an empty list publishes each metric under its full set only.
    /// Values are aggregated and written once, however many sets.
    ///
    /// ```
    /// let capture = instrument::testing::Capture::with(|b| {
    ///     b.service("api").rollups([vec![], vec!["route"]])
    /// });
    /// capture.run(|| {
    ///     tracing::info!(dimension.route = "/book", dimension.method = "POST", counter.requests = 1)
    /// });
    /// let doc = &capture.emf_documents()[0];
    /// assert_eq!(
    ///     doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
    ///     serde_json::json!([["service", "route", "method"], ["service"], ["service", "route"]])
    /// );
    /// ```
    pub fn rollups<I, S, D>(self, sets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: IntoIterator<Item = D>,
        D: Into<String>,
    {
        let items = sets
            .into_iter()
            .map(|set| {
                set.into_iter()
                    .map(Into::into)
                    .collect::<Vec<String>>()
                    .join(",")
            })
            .collect();
        self.setting(&table::ROLLUPS, items)
    }
}
