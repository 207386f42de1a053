//! An in-memory CloudWatch for one queue's metrics: the datapoints the sampler publishes (or a test writes),
//! aggregated per period for an alarm as CloudWatch would. The simulator and the local run keep one each, so the
//! alarms of core's spec run on the same values there as in AWS.

use std::collections::BTreeMap;

use super::evaluation::Datapoints;
use super::metric_math::Series;
use crate::policy::{Metric, Statistic};
use crate::sampler::SampledValues;

/// Datapoints by metric name, each series in time order.
#[derive(Debug, Clone, Default)]
pub struct MetricStore {
    points: BTreeMap<String, Vec<(u64, f64)>>,
}

impl MetricStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `value` of `metric_name` at `at_ms` (datapoints of one metric arrive in time order).
    pub fn put(&mut self, metric_name: &str, at_ms: u64, value: f64) {
        if let Some(series) = self.points.get_mut(metric_name) {
            debug_assert!(series.last().is_none_or(|(t, _)| *t <= at_ms));
            series.push((at_ms, value));
        } else {
            self.points
                .insert(metric_name.to_string(), vec![(at_ms, value)]);
        }
    }

    /// Records one sampler reading's metrics, as the sampler publishes them.
    pub fn put_sampled(&mut self, at_ms: u64, values: &SampledValues) {
        for (name, value) in values.metrics() {
            self.put(name, at_ms, value);
        }
    }

    /// The datapoints of `metric_name` in `(from_ms, to_ms]` (`from_ms` None: from the start of the clock).
    fn range(&self, metric_name: &str, from_ms: Option<u64>, to_ms: u64) -> &[(u64, f64)] {
        let Some(series) = self.points.get(metric_name) else {
            return &[];
        };
        let start = from_ms.map_or(0, |from| series.partition_point(|(t, _)| *t <= from));
        let end = series.partition_point(|(t, _)| *t <= to_ms);
        &series[start..end.max(start)]
    }
}

/// `stat` of `values`, None when there are none.
fn aggregate(values: &[(u64, f64)], stat: &Statistic) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let it = values.iter().map(|(_, v)| *v);
    Some(match stat {
        Statistic::Maximum => it.fold(f64::NEG_INFINITY, f64::max),
        Statistic::Minimum => it.fold(f64::INFINITY, f64::min),
        Statistic::Sum => it.sum(),
        Statistic::Average => it.sum::<f64>() / values.len() as f64,
        Statistic::SampleCount => values.len() as f64,
        // Extended statistics are not published by this project.
        Statistic::Other(_) => return None,
    })
}

impl Datapoints for MetricStore {
    /// Periods are sliding, ending at the evaluation (`end_ms`), each `(start, end]`: the CloudWatch alarm's default
    /// evaluation window advances with each evaluation (CloudFormation's `AWS::CloudWatch::Alarm EvaluationWindow`:
    /// `SlidingWindow` is the default). Every metric of this store is the queue's: the dimensions are not compared.
    fn series(
        &self,
        metric: &Metric,
        stat: &Statistic,
        period_secs: u32,
        end_ms: u64,
        periods: usize,
    ) -> Series {
        let period_ms = u64::from(period_secs.max(1)) * 1000;
        (0..periods)
            .map(|k| {
                let back = (periods - k) as u64;
                // A period reaching before the clock's start holds what the clock has up to its end.
                let to = end_ms.checked_sub((back - 1) * period_ms)?;
                let from = end_ms.checked_sub(back * period_ms);
                aggregate(self.range(&metric.metric_name, from, to), stat)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(name: &str) -> Metric {
        Metric {
            namespace: "ECS-SQS-BPI".into(),
            metric_name: name.into(),
            dimensions: Vec::new(),
        }
    }

    #[test]
    fn periods_slide_to_the_evaluation_and_aggregate_as_cloudwatch_does() {
        let mut store = MetricStore::new();
        for (i, v) in [1.0, 5.0, 3.0, 0.0, 2.0, 4.0].into_iter().enumerate() {
            store.put("m", 10_000 * (i as u64 + 1), v);
        }
        // At 60 s, two 30 s periods: (0, 30] holds 1, 5, 3; (30, 60] holds 0, 2, 4.
        let m = metric("m");
        assert_eq!(
            store.series(&m, &Statistic::Maximum, 30, 60_000, 2),
            vec![Some(5.0), Some(4.0)]
        );
        assert_eq!(
            store.series(&m, &Statistic::Average, 30, 60_000, 2),
            vec![Some(3.0), Some(2.0)]
        );
        assert_eq!(
            store.series(&m, &Statistic::SampleCount, 60, 60_000, 1),
            vec![Some(6.0)]
        );
        // The clock's first instant is in its first period.
        store.put("z", 0, 9.0);
        assert_eq!(
            store.series(&metric("z"), &Statistic::Maximum, 10, 0, 2),
            vec![None, Some(9.0)]
        );
        // Nothing published in a period, or of a metric: missing.
        assert_eq!(
            store.series(&m, &Statistic::Minimum, 10, 90_000, 3),
            vec![None, None, None]
        );
        assert_eq!(
            store.series(&metric("other"), &Statistic::Sum, 60, 60_000, 1),
            vec![None]
        );
    }
}
