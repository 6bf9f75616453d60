//! Saved Logs Insights queries: the query engine's pack (`instrument_query::pack`), named
//! `<name>/<query>` so that the console files them in one folder.

use super::QueryDefinition;
use crate::settings::ServiceSettings;

pub(super) fn queries(settings: &ServiceSettings) -> Vec<QueryDefinition> {
    instrument_query::pack::PACK
        .iter()
        .map(|q| QueryDefinition {
            name: format!("{}/{}", settings.name, q.name),
            query: q.text.to_owned(),
            log_groups: settings.log_groups.clone(),
        })
        .collect()
}
