//! `/metrics`: the Prometheus text format, through `prometheus-client`.
//!
//! Requests are labelled by root field (the schema's names, never the
//! client's operation name or aliases, so no client can grow the label set)
//! and by outcome (`ok` or an error code of the API). Transitions, pool use
//! and the change feed's lag are read from the engine at scrape time.

use std::collections::HashSet;
use std::time::Duration;

use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use doorbraak_engine::Engine;
use doorbraak_graphql::{ErrorCode, Observer};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FieldOutcome {
    root_field: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Field {
    root_field: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The service's metrics; one per router.
pub struct Metrics {
    registry: Registry,
    requests: Family<FieldOutcome, Counter>,
    latency: Family<Field, Histogram, fn() -> Histogram>,
    known_fields: HashSet<String>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The root fields of the schema (and of introspection): the only values
/// the `root_field` label takes, besides `unknown` and `none`.
fn root_fields_of(sdl: &str) -> HashSet<String> {
    let mut out: HashSet<String> = ["__schema", "__type", "__typename"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    if let Ok(doc) = async_graphql::parser::parse_schema(sdl) {
        for def in doc.definitions {
            if let TypeSystemDefinition::Type(t) = def
                && matches!(
                    t.node.name.node.as_str(),
                    "Query" | "Mutation" | "Subscription"
                )
                && let TypeKind::Object(o) = &t.node.kind
            {
                out.extend(o.fields.iter().map(|f| f.node.name.node.to_string()));
            }
        }
    }
    out
}

impl Metrics {
    pub fn new(engine: Engine) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<FieldOutcome, Counter>::default();
        let latency: Family<Field, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "doorbraak_graphql_requests",
            "GraphQL requests by root field and outcome (ok, or the error code)",
            requests.clone(),
        );
        registry.register(
            "doorbraak_graphql_request_duration_seconds",
            "Time to answer a GraphQL request, by root field",
            latency.clone(),
        );
        registry.register_collector(Box::new(EngineCollector(engine)));
        Metrics {
            registry,
            requests,
            latency,
            known_fields: root_fields_of(&doorbraak_graphql::sdl()),
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("cannot encode the metrics");
        }
        out
    }
}

impl Observer for Metrics {
    fn request_done(&self, root_fields: &[String], error: Option<&str>, elapsed: Duration) {
        let outcome = match error {
            None => "ok",
            Some(code) => ErrorCode::ALL
                .iter()
                .map(|c| c.as_str())
                .find(|c| *c == code)
                .unwrap_or("other"),
        };
        let mut labels: Vec<&str> = root_fields
            .iter()
            .map(|f| {
                if self.known_fields.contains(f) {
                    f.as_str()
                } else {
                    "unknown"
                }
            })
            .collect();
        labels.sort_unstable();
        labels.dedup();
        if labels.is_empty() {
            labels.push("none");
        }
        for field in labels {
            self.requests
                .get_or_create(&FieldOutcome {
                    root_field: field.to_owned(),
                    outcome: outcome.to_owned(),
                })
                .inc();
            self.latency
                .get_or_create(&Field {
                    root_field: field.to_owned(),
                })
                .observe(elapsed.as_secs_f64());
        }
    }
}

/// What the engine knows, read at scrape time.
#[derive(Debug)]
struct EngineCollector(Engine);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Action {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Pool {
    pool: String,
}

impl Collector for EngineCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        {
            let counter = ConstCounter::new(0u64);
            let mut family = encoder.encode_descriptor(
                "doorbraak_transitions",
                "Events recorded on cases by this instance, by action",
                None,
                counter.metric_type(),
            )?;
            for (action, n) in &stats.transitions {
                let labels = Action {
                    action: (*action).to_owned(),
                };
                ConstCounter::new(*n).encode(family.encode_family(&labels)?)?;
            }
        }
        for (name, help, pick) in [
            (
                "doorbraak_db_pool_connections",
                "Database connections open, by pool",
                (|p: &doorbraak_engine::PoolStat| p.size) as fn(&doorbraak_engine::PoolStat) -> u32,
            ),
            (
                "doorbraak_db_pool_idle_connections",
                "Database connections open and idle, by pool",
                |p| p.idle,
            ),
            (
                "doorbraak_db_pool_max_connections",
                "Most database connections a pool opens",
                |p| p.max,
            ),
        ] {
            let gauge = ConstGauge::new(0i64);
            let mut family = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            for p in &stats.pools {
                let labels = Pool {
                    pool: p.name.to_owned(),
                };
                ConstGauge::new(i64::from(pick(p))).encode(family.encode_family(&labels)?)?;
            }
        }
        if let Some(g) = stats.group_commits {
            for (name, help, n) in [
                (
                    "doorbraak_sqlite_write_batches",
                    "Batches of transitions the SQLite writer thread has run, each under one COMMIT",
                    g.batches,
                ),
                (
                    "doorbraak_sqlite_batched_transitions",
                    "Transitions in those batches (over the batches: how many share a COMMIT)",
                    g.transitions,
                ),
                (
                    "doorbraak_sqlite_batches_held_open",
                    "Batches the writer thread held open a moment for transitions on their way",
                    g.held,
                ),
            ] {
                let counter = ConstCounter::new(n);
                counter.encode(encoder.encode_descriptor(
                    name,
                    help,
                    None,
                    counter.metric_type(),
                )?)?;
            }
        }
        let lag = ConstGauge::new(stats.feed_lag_seconds);
        lag.encode(encoder.encode_descriptor(
            "doorbraak_change_feed_lag_seconds",
            "Between an event's time and when this instance's change feed passed it on",
            None,
            lag.metric_type(),
        )?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_set_is_the_schema() {
        let known = root_fields_of(&doorbraak_graphql::sdl());
        for f in ["me", "cases", "submitCase", "caseUpdated", "__schema"] {
            assert!(known.contains(f), "{f}");
        }
        assert!(!known.contains("aliasOfSomething"));
    }
}
