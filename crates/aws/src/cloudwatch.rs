//! CloudWatch: `MsgProcessingDuration` written as statistic sets and read back as per-period Sum and SampleCount.
//!
//! Reading uses GetMetricData at a period CloudWatch keeps for the whole window (60 s data is kept 15 days), and
//! follows NextToken, so the blueprint's "Period=1 over 24 h returns nothing older than 3 h" (bug 4) cannot happen.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, StandardUnit,
    StatisticSet as CwStatisticSet,
};
use bpi_core::StatisticSet;
use bpi_core::config::MetricNames;
use bpi_core::policy::{AlarmSpec, MetricQuery};

use crate::error::AwsError;

/// Period of the read statistic sets: one minute, kept by CloudWatch for 15 days.
pub const READ_PERIOD_SECS: i32 = 60;

/// Durations measured over an interval, aggregated: what one PutMetricData statistic set carries.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DurationStats {
    /// Messages measured.
    pub count: u64,
    /// Sum of their durations, seconds.
    pub sum_secs: f64,
    /// Shortest, seconds.
    pub min_secs: f64,
    /// Longest, seconds.
    pub max_secs: f64,
}

impl DurationStats {
    /// Adds one measured duration.
    pub fn record(&mut self, secs: f64) {
        if self.count == 0 {
            self.min_secs = secs;
            self.max_secs = secs;
        } else {
            self.min_secs = self.min_secs.min(secs);
            self.max_secs = self.max_secs.max(secs);
        }
        self.count += 1;
        self.sum_secs += secs;
    }

    /// Adds another aggregate (e.g. one whose publication failed) to this one.
    pub fn merge(&mut self, other: &DurationStats) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        self.count += other.count;
        self.sum_secs += other.sum_secs;
        self.min_secs = self.min_secs.min(other.min_secs);
        self.max_secs = self.max_secs.max(other.max_secs);
    }

    /// Whether nothing was measured.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

fn dimensions(names: &MetricNames, queue_name: &str) -> Vec<Dimension> {
    names
        .dimensions(queue_name)
        .into_iter()
        .map(|(n, v)| Dimension::builder().name(n).value(v).build())
        .collect()
}

/// Publishes one statistic set of processing durations (one PutMetricData call). Empty stats publish nothing.
pub async fn put_duration_stats(
    client: &aws_sdk_cloudwatch::Client,
    names: &MetricNames,
    queue_name: &str,
    stats: &DurationStats,
    timestamp: SystemTime,
) -> Result<(), AwsError> {
    put_worker_metrics(client, names, queue_name, stats, None, timestamp).await
}

/// The CloudWatch client a worker publishes with: opaque, so the worker holds no SDK type (and needs no SDK crate).
#[derive(Debug, Clone)]
pub struct WorkerMetricsClient(aws_sdk_cloudwatch::Client);

impl WorkerMetricsClient {
    /// The client of `clients`.
    pub fn new(clients: &crate::AwsClients) -> Self {
        WorkerMetricsClient(clients.cloudwatch.clone())
    }

    /// [`put_worker_metrics`] with this client.
    pub async fn put(
        &self,
        names: &MetricNames,
        queue_name: &str,
        stats: &DurationStats,
        app_not_ready: Option<bool>,
        timestamp: SystemTime,
    ) -> Result<(), AwsError> {
        put_worker_metrics(&self.0, names, queue_name, stats, app_not_ready, timestamp).await
    }
}

/// Publishes what a worker reports for an interval in one PutMetricData call: its statistic set of processing
/// durations (when it processed anything) and, for a worker carrying an application, whether that application was
/// not ready (`APP_NOT_READY_METRIC`, 1 or 0, high resolution). Nothing to say publishes nothing.
pub async fn put_worker_metrics(
    client: &aws_sdk_cloudwatch::Client,
    names: &MetricNames,
    queue_name: &str,
    stats: &DurationStats,
    app_not_ready: Option<bool>,
    timestamp: SystemTime,
) -> Result<(), AwsError> {
    let mut data = Vec::new();
    if let Some(not_ready) = app_not_ready {
        data.push(
            MetricDatum::builder()
                .metric_name(bpi_core::config::APP_NOT_READY_METRIC)
                .set_dimensions(Some(dimensions(names, queue_name)))
                .value(if not_ready { 1.0 } else { 0.0 })
                .unit(StandardUnit::Count)
                .timestamp(DateTime::from(timestamp))
                .storage_resolution(Resolution::High.storage_resolution())
                .build(),
        );
    }
    if stats.is_empty() && data.is_empty() {
        return Ok(());
    }
    if !stats.is_empty() {
        data.push(duration_datum(names, queue_name, stats, timestamp));
    }
    client
        .put_metric_data()
        .namespace(&names.namespace)
        .set_metric_data(Some(data))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudwatch:PutMetricData", e))?;
    Ok(())
}

fn duration_datum(
    names: &MetricNames,
    queue_name: &str,
    stats: &DurationStats,
    timestamp: SystemTime,
) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(&names.metric_name)
        .set_dimensions(Some(dimensions(names, queue_name)))
        .statistic_values(
            CwStatisticSet::builder()
                .sample_count(stats.count as f64)
                .sum(stats.sum_secs)
                .minimum(stats.min_secs)
                .maximum(stats.max_secs)
                .build(),
        )
        .unit(StandardUnit::Seconds)
        .timestamp(DateTime::from(timestamp))
        .build()
}

/// How finely CloudWatch stores a published value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// One-minute storage (StorageResolution 60, the default).
    Standard,
    /// One-second storage (StorageResolution 1): what a 10-second alarm needs (CloudWatch user guide,
    /// "High-resolution metrics").
    High,
}

impl Resolution {
    fn storage_resolution(self) -> i32 {
        match self {
            Resolution::Standard => 60,
            Resolution::High => 1,
        }
    }
}

/// The unit of a published value: the two this project publishes, so no SDK type leaves this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricUnit {
    /// A count (messages, tasks, a target backlog per task).
    Count,
    /// Seconds (a duration).
    Seconds,
}

impl MetricUnit {
    fn standard_unit(self) -> StandardUnit {
        match self {
            MetricUnit::Count => StandardUnit::Count,
            MetricUnit::Seconds => StandardUnit::Seconds,
        }
    }
}

/// Publishes plain values (e.g. ecsTargetBPI and the MPD used, or a sampler reading) in one PutMetricData call.
pub async fn put_values(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    dimensions: &[(&str, &str)],
    values: &[(&str, f64, MetricUnit)],
    timestamp: SystemTime,
    resolution: Resolution,
) -> Result<(), AwsError> {
    let dims: Vec<Dimension> = dimensions
        .iter()
        .map(|(n, v)| Dimension::builder().name(*n).value(*v).build())
        .collect();
    let data: Vec<MetricDatum> = values
        .iter()
        .map(|(name, value, unit)| {
            MetricDatum::builder()
                .metric_name(*name)
                .set_dimensions(Some(dims.clone()))
                .value(*value)
                .unit(unit.standard_unit())
                .timestamp(DateTime::from(timestamp))
                .storage_resolution(resolution.storage_resolution())
                .build()
        })
        .collect();
    client
        .put_metric_data()
        .namespace(namespace)
        .set_metric_data(Some(data))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudwatch:PutMetricData", e))?;
    Ok(())
}

/// One value to publish, with its own dimensions and time: a fleet sampler's reading of many services goes out in a
/// few calls of these.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// Metric name.
    pub name: &'static str,
    /// Its dimensions (name, value).
    pub dimensions: Vec<(&'static str, String)>,
    /// The value (a count).
    pub value: f64,
    /// When it was read.
    pub at: SystemTime,
}

/// Publishes `points` of one namespace as high-resolution counts in one PutMetricData call (at most
/// [`bpi_core::fleet::METRIC_DATA_PER_PUT`]; core's `put_batches` cuts a reading into such calls).
pub async fn put_points(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    points: &[MetricPoint],
) -> Result<(), AwsError> {
    let data: Vec<MetricDatum> = points
        .iter()
        .map(|p| {
            MetricDatum::builder()
                .metric_name(p.name)
                .set_dimensions(Some(
                    p.dimensions
                        .iter()
                        .map(|(n, v)| Dimension::builder().name(*n).value(v).build())
                        .collect(),
                ))
                .value(p.value)
                .unit(StandardUnit::Count)
                .timestamp(DateTime::from(p.at))
                .storage_resolution(Resolution::High.storage_resolution())
                .build()
        })
        .collect();
    client
        .put_metric_data()
        .namespace(namespace)
        .set_metric_data(Some(data))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudwatch:PutMetricData", e))?;
    Ok(())
}

fn to_query(q: &MetricQuery) -> MetricDataQuery {
    let stat = q.metric_stat.as_ref().map(|s| {
        MetricStat::builder()
            .metric(
                Metric::builder()
                    .namespace(&s.metric.namespace)
                    .metric_name(&s.metric.metric_name)
                    .set_dimensions(Some(
                        s.metric
                            .dimensions
                            .iter()
                            .map(|d| Dimension::builder().name(&d.name).value(&d.value).build())
                            .collect(),
                    ))
                    .build(),
            )
            .period(i32::try_from(s.period.unwrap_or(60)).unwrap_or(60))
            .stat(s.stat.as_str())
            .build()
    });
    MetricDataQuery::builder()
        .id(&q.id)
        .set_expression(q.expression.clone())
        .set_label(q.label.clone())
        .set_metric_stat(stat)
        .return_data(q.return_data)
        .build()
}

/// Creates or updates a metric-math alarm (PutMetricAlarm) whose action is `action_arn`.
pub async fn put_alarm(
    client: &aws_sdk_cloudwatch::Client,
    alarm: &AlarmSpec,
    action_arn: &str,
) -> Result<(), AwsError> {
    put_alarm_with(client, alarm, Some(action_arn)).await
}

/// Creates or updates an alarm that acts on nothing: it is there to be seen (and notified on, if someone adds an
/// action).
pub async fn put_watch_alarm(
    client: &aws_sdk_cloudwatch::Client,
    alarm: &AlarmSpec,
) -> Result<(), AwsError> {
    put_alarm_with(client, alarm, None).await
}

async fn put_alarm_with(
    client: &aws_sdk_cloudwatch::Client,
    alarm: &AlarmSpec,
    action_arn: Option<&str>,
) -> Result<(), AwsError> {
    client
        .put_metric_alarm()
        .alarm_name(&alarm.alarm_name)
        .alarm_description(&alarm.alarm_description)
        .set_metrics(Some(alarm.metrics.iter().map(to_query).collect()))
        .comparison_operator(ComparisonOperator::from(alarm.comparison_operator.as_str()))
        .threshold(alarm.threshold)
        .evaluation_periods(i32::try_from(alarm.evaluation_periods).unwrap_or(1))
        .datapoints_to_alarm(i32::try_from(alarm.datapoints_to_alarm).unwrap_or(1))
        .treat_missing_data(alarm.treat_missing_data.as_str())
        .set_alarm_actions(action_arn.map(|a| vec![a.to_string()]))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudwatch:PutMetricAlarm", e))?;
    Ok(())
}

/// The names of the alarms among `names` that exist.
pub async fn existing_alarms(
    client: &aws_sdk_cloudwatch::Client,
    names: &[String],
) -> Result<Vec<String>, AwsError> {
    let out = client
        .describe_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudwatch:DescribeAlarms", e))?;
    Ok(out
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect())
}

/// The description of the alarm `name`, if it exists (Some("") when it has none).
pub async fn alarm_description(
    client: &aws_sdk_cloudwatch::Client,
    name: &str,
) -> Result<Option<String>, AwsError> {
    let out = client
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudwatch:DescribeAlarms", e))?;
    Ok(out
        .metric_alarms()
        .iter()
        .find(|a| a.alarm_name() == Some(name))
        .map(|a| a.alarm_description().unwrap_or_default().to_string()))
}

/// Deletes alarms by name (missing ones are ignored).
pub async fn delete_alarms(
    client: &aws_sdk_cloudwatch::Client,
    names: &[String],
) -> Result<(), AwsError> {
    if names.is_empty() {
        return Ok(());
    }
    client
        .delete_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudwatch:DeleteAlarms", e))?;
    Ok(())
}

/// The `i`th query of a GetMetricData call (id `q{i}`): `stat` of one metric over `period_secs` periods, returned.
fn stat_query(
    i: usize,
    namespace: &str,
    metric_name: &str,
    dimensions: &[Dimension],
    period_secs: i32,
    stat: &str,
) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(format!("q{i}"))
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(namespace)
                        .metric_name(metric_name)
                        .set_dimensions(Some(dimensions.to_vec()))
                        .build(),
                )
                .period(period_secs)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// The newest value of each of `metric_names` (same namespace and dimensions) published within `lookback` before
/// `now`, with its timestamp, in one GetMetricData call: its Maximum over 10-second periods, the finest a
/// high-resolution metric keeps. None for a metric with nothing published.
pub async fn latest_values(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    metric_names: &[&str],
    dimensions: &[(&str, &str)],
    lookback: Duration,
    now: SystemTime,
) -> Result<Vec<Option<(SystemTime, f64)>>, AwsError> {
    let dims: Vec<Dimension> = dimensions
        .iter()
        .map(|(n, v)| Dimension::builder().name(*n).value(*v).build())
        .collect();
    let queries: Vec<MetricDataQuery> = metric_names
        .iter()
        .enumerate()
        .map(|(i, name)| stat_query(i, namespace, name, &dims, 10, "Maximum"))
        .collect();
    let out = client
        .get_metric_data()
        .set_metric_data_queries(Some(queries))
        .start_time(DateTime::from(
            now.checked_sub(lookback).unwrap_or(SystemTime::UNIX_EPOCH),
        ))
        .end_time(DateTime::from(now + Duration::from_secs(10)))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudwatch:GetMetricData", e))?;
    Ok((0..metric_names.len())
        .map(|i| {
            let id = format!("q{i}");
            out.metric_data_results()
                .iter()
                .filter(|r| r.id() == Some(id.as_str()))
                .flat_map(|r| r.timestamps().iter().zip(r.values()))
                .filter_map(|(t, v)| {
                    let secs = u64::try_from(t.secs()).ok()?;
                    Some((SystemTime::UNIX_EPOCH + Duration::from_secs(secs), *v))
                })
                .max_by_key(|(t, _)| *t)
        })
        .collect())
}

/// One metric of a [`minute_series`] read: namespace, name, dimensions and statistic, over 1-minute periods.
struct MinuteQuery<'a> {
    namespace: &'a str,
    metric_name: &'a str,
    dimensions: Vec<Dimension>,
    stat: &'a str,
}

/// Reads `queries` over `window` ending at `end` in GetMetricData calls (following NextToken), and pairs their
/// values by minute: one row per timestamp, oldest first, with each query's value in its position (None where it
/// has none).
async fn minute_series(
    client: &aws_sdk_cloudwatch::Client,
    queries: &[MinuteQuery<'_>],
    window: Duration,
    end: SystemTime,
) -> Result<Vec<Vec<Option<f64>>>, AwsError> {
    Ok(minute_series_at(client, queries, window, end)
        .await?
        .into_iter()
        .map(|(_, row)| row)
        .collect())
}

/// [`minute_series`] with each row's timestamp (epoch seconds of the minute's start).
async fn minute_series_at(
    client: &aws_sdk_cloudwatch::Client,
    queries: &[MinuteQuery<'_>],
    window: Duration,
    end: SystemTime,
) -> Result<Vec<(i64, Vec<Option<f64>>)>, AwsError> {
    const OP: &str = "cloudwatch:GetMetricData";
    let requests: Vec<MetricDataQuery> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            stat_query(
                i,
                q.namespace,
                q.metric_name,
                &q.dimensions,
                READ_PERIOD_SECS,
                q.stat,
            )
        })
        .collect();
    let start = end.checked_sub(window).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut by_time: BTreeMap<i64, Vec<Option<f64>>> = BTreeMap::new();
    let mut next_token: Option<String> = None;
    loop {
        let out = client
            .get_metric_data()
            .set_metric_data_queries(Some(requests.clone()))
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        for result in out.metric_data_results() {
            let Some(slot) = result
                .id()
                .and_then(|id| id.strip_prefix('q'))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n < queries.len())
            else {
                continue;
            };
            for (t, v) in result.timestamps().iter().zip(result.values()) {
                by_time
                    .entry(t.secs())
                    .or_insert_with(|| vec![None; queries.len()])[slot] = Some(*v);
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => next_token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(by_time.into_iter().collect())
}

/// Reads per-minute Sum and SampleCount of the processing-duration metric over `window` ending at `end`, following
/// NextToken, and pairs them by timestamp into statistic sets (oldest first).
pub async fn read_duration_stats(
    client: &aws_sdk_cloudwatch::Client,
    names: &MetricNames,
    queue_name: &str,
    window: Duration,
    end: SystemTime,
) -> Result<Vec<StatisticSet>, AwsError> {
    let query = |stat| MinuteQuery {
        namespace: &names.namespace,
        metric_name: &names.metric_name,
        dimensions: dimensions(names, queue_name),
        stat,
    };
    let rows = minute_series(client, &[query("Sum"), query("SampleCount")], window, end).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(StatisticSet {
                sum_secs: row[0]?,
                sample_count: row[1]?,
            })
        })
        .collect())
}

/// Where the sampler publishes: its namespace and dimensions.
#[derive(Debug, Clone, Copy)]
pub struct SamplerMetrics<'a> {
    /// The namespace.
    pub namespace: &'a str,
    /// The dimensions (`Type`, `QueueName`).
    pub dimensions: &'a [(&'a str, &'a str)],
}

/// The queue's per-minute activity over `window` ending at `end` (oldest first), for the estimate of MPD by
/// Little's law: the in-flight count's Average and `NumberOfMessagesDeleted`'s Sum, paired by minute, in one
/// GetMetricData call. The in-flight count is the sampler's `ecsInFlight` (six readings a minute) where it
/// published, else SQS's `ApproximateNumberOfMessagesNotVisible` (one reading a minute). Minutes without deletions
/// data or any in-flight count are left out. Source for SQS's metrics: Amazon SQS developer guide, "Available
/// CloudWatch metrics for Amazon SQS" (namespace `AWS/SQS`, dimension `QueueName`, reported every minute).
pub async fn read_queue_activity(
    client: &aws_sdk_cloudwatch::Client,
    queue_name: &str,
    sampler: SamplerMetrics<'_>,
    window: Duration,
    end: SystemTime,
) -> Result<Vec<bpi_core::ActivityMinute>, AwsError> {
    let sqs = || {
        vec![
            Dimension::builder()
                .name("QueueName")
                .value(queue_name)
                .build(),
        ]
    };
    let queries = [
        MinuteQuery {
            namespace: sampler.namespace,
            metric_name: bpi_core::sampler::IN_FLIGHT_METRIC,
            dimensions: sampler
                .dimensions
                .iter()
                .map(|(n, v)| Dimension::builder().name(*n).value(*v).build())
                .collect(),
            stat: "Average",
        },
        MinuteQuery {
            namespace: "AWS/SQS",
            metric_name: "ApproximateNumberOfMessagesNotVisible",
            dimensions: sqs(),
            stat: "Average",
        },
        MinuteQuery {
            namespace: "AWS/SQS",
            metric_name: "NumberOfMessagesDeleted",
            dimensions: sqs(),
            stat: "Sum",
        },
    ];
    let rows = minute_series(client, &queries, window, end).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(bpi_core::ActivityMinute {
                in_flight_mean: row[0].or(row[1])?,
                deleted: row[2]?,
            })
        })
        .collect())
}

/// Messages sent to `queue_name` per minute over `window` ending at `end` (SQS's `NumberOfMessagesSent`, Sum,
/// 1-minute periods, which CloudWatch keeps 15 days): (epoch seconds of the minute's start, messages), oldest first.
/// Minutes without a datapoint are left out. Source: Amazon SQS developer guide, "Available CloudWatch metrics for
/// Amazon SQS".
pub async fn read_messages_sent(
    client: &aws_sdk_cloudwatch::Client,
    queue_name: &str,
    window: Duration,
    end: SystemTime,
) -> Result<Vec<(i64, f64)>, AwsError> {
    let query = MinuteQuery {
        namespace: "AWS/SQS",
        metric_name: "NumberOfMessagesSent",
        dimensions: vec![
            Dimension::builder()
                .name("QueueName")
                .value(queue_name)
                .build(),
        ],
        stat: "Sum",
    };
    Ok(minute_series_at(client, &[query], window, end)
        .await?
        .into_iter()
        .filter_map(|(t, row)| row.first().copied().flatten().map(|v| (t, v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_stats_aggregate() {
        let mut s = DurationStats::default();
        assert!(s.is_empty());
        for v in [2.0, 0.5, 3.5] {
            s.record(v);
        }
        assert_eq!(
            s,
            DurationStats {
                count: 3,
                sum_secs: 6.0,
                min_secs: 0.5,
                max_secs: 3.5
            }
        );
        let mut other = DurationStats::default();
        other.record(10.0);
        s.merge(&other);
        s.merge(&DurationStats::default());
        assert_eq!(
            (s.count, s.sum_secs, s.min_secs, s.max_secs),
            (4, 16.0, 0.5, 10.0)
        );
        let mut empty = DurationStats::default();
        empty.merge(&other);
        assert_eq!(empty, other);
    }
}
