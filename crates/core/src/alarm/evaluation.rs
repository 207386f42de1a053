//! How a CloudWatch alarm reaches its state: the CloudWatch user guide's "Evaluating an alarm" (M datapoints out of
//! N breaching) and "Configuring how CloudWatch alarms treat missing data", over datapoints from any
//! [`Datapoints`] source: the metric store the simulator and the local run fill, or series a test writes.

use super::metric_math::{ParseError, Series, evaluate};
use crate::policy::{AlarmSpec, ComparisonOperator, Metric, Statistic, TreatMissingData};
use std::collections::BTreeMap;

/// How an alarm treats a missing datapoint (PutMetricAlarm `TreatMissingData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingData {
    /// `breaching`: counts as a breaching datapoint.
    Breaching,
    /// `notBreaching`: counts as a good datapoint.
    NotBreaching,
    /// `missing` or `ignore`: not counted (the state stays while too few datapoints remain).
    Missing,
}

impl From<TreatMissingData> for MissingData {
    fn from(t: TreatMissingData) -> Self {
        match t {
            TreatMissingData::Breaching => MissingData::Breaching,
            TreatMissingData::NotBreaching => MissingData::NotBreaching,
            TreatMissingData::Missing | TreatMissingData::Ignore => MissingData::Missing,
        }
    }
}

impl ComparisonOperator {
    /// Whether `value` breaches `threshold`.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            ComparisonOperator::GreaterThan => value > threshold,
            ComparisonOperator::GreaterThanOrEqual => value >= threshold,
            ComparisonOperator::LessThan => value < threshold,
            ComparisonOperator::LessThanOrEqual => value <= threshold,
        }
    }
}

/// Whether an alarm with `datapoints_to_alarm` of `evaluation_periods` is in ALARM after the newest period of
/// `values` (oldest first). With `Missing`, the evaluation range reaches back past missing periods for up to
/// `evaluation_periods` present ones, as the user guide describes.
pub fn in_alarm(
    values: &[Option<f64>],
    comparison: ComparisonOperator,
    threshold: f64,
    evaluation_periods: usize,
    datapoints_to_alarm: usize,
    missing: MissingData,
) -> bool {
    let breaches = |v: f64| comparison.breaches(v, threshold);
    let breaching = match missing {
        MissingData::Missing => values
            .iter()
            .rev()
            .flatten()
            .take(evaluation_periods)
            .filter(|v| breaches(**v))
            .count(),
        _ => values
            .iter()
            .rev()
            .take(evaluation_periods)
            .filter(|v| match v {
                Some(v) => breaches(*v),
                None => missing == MissingData::Breaching,
            })
            .count(),
    };
    breaching >= datapoints_to_alarm
}

/// Where an alarm's datapoints come from: one statistic of a metric over `periods` periods of `period_secs`, the
/// newest ending at `end_ms` (milliseconds on the source's clock), oldest first, `None` where the period has no
/// datapoint.
pub trait Datapoints {
    /// The series.
    fn series(
        &self,
        metric: &Metric,
        stat: &Statistic,
        period_secs: u32,
        end_ms: u64,
        periods: usize,
    ) -> Series;
}

/// An alarm's state at an evaluation, and the value its step policy sizes a step from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlarmState {
    /// In ALARM.
    pub in_alarm: bool,
    /// The newest datapoint of the alarm's value (its returned expression or metric), if present.
    pub newest: Option<f64>,
}

impl AlarmSpec {
    /// The period of the alarm's metrics, seconds (all of an alarm's metrics share one; 60 when none says).
    pub fn period_secs(&self) -> u32 {
        self.metrics
            .iter()
            .find_map(|q| q.metric_stat.as_ref().and_then(|m| m.period))
            .unwrap_or(60)
    }

    /// The alarm's value per period: its metrics from `data`, then its expressions in order, the one marked
    /// `ReturnData` returned; `periods` periods, the newest ending at `end_ms`.
    pub fn values(
        &self,
        data: &dyn Datapoints,
        end_ms: u64,
        periods: usize,
    ) -> Result<Series, ParseError> {
        let period = self.period_secs();
        let mut by_id: BTreeMap<String, Series> = BTreeMap::new();
        let mut returned = None;
        // The common alarm of one metric, returned: no expression to feed.
        if let [q] = self.metrics.as_slice()
            && let Some(ms) = &q.metric_stat
            && q.return_data
        {
            return Ok(data.series(&ms.metric, &ms.stat, period, end_ms, periods));
        }
        for q in &self.metrics {
            let series = match (&q.metric_stat, &q.expression) {
                (Some(ms), _) => data.series(&ms.metric, &ms.stat, period, end_ms, periods),
                (None, Some(e)) => evaluate(e, &by_id, periods)?,
                (None, None) => {
                    return Err(ParseError(format!(
                        "query {} has neither a metric nor an expression",
                        q.id
                    )));
                }
            };
            if q.return_data {
                returned = Some(q.id.as_str());
            }
            by_id.insert(q.id.clone(), series);
        }
        returned
            .and_then(|id| by_id.remove(id))
            .ok_or_else(|| ParseError(format!("alarm {} returns no data", self.alarm_name)))
    }

    /// The alarm's state when evaluated at `end_ms` over the datapoints delivered by then.
    pub fn evaluate(&self, data: &dyn Datapoints, end_ms: u64) -> Result<AlarmState, ParseError> {
        let n = self.evaluation_periods.max(1) as usize;
        let missing = MissingData::from(self.treat_missing_data);
        // With `missing`, the evaluation may reach back past missing periods: a day of them at most.
        let periods = if missing == MissingData::Missing {
            n.max((86_400 / self.period_secs().max(1)) as usize)
        } else {
            n
        };
        let values = self.values(data, end_ms, periods)?;
        Ok(AlarmState {
            in_alarm: in_alarm(
                &values,
                self.comparison_operator,
                self.threshold,
                n,
                self.datapoints_to_alarm as usize,
                missing,
            ),
            newest: values.last().copied().flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarms_count_missing_data_as_told() {
        let v = vec![Some(1.0), None, None];
        let check = |m| in_alarm(&v, ComparisonOperator::GreaterThan, 0.0, 2, 2, m);
        assert!(check(MissingData::Breaching));
        assert!(!check(MissingData::NotBreaching));
        // Missing: the evaluation reaches back to the one present datapoint: 1 of 2 needed.
        assert!(!check(MissingData::Missing));
        assert!(in_alarm(
            &v,
            ComparisonOperator::GreaterThan,
            0.0,
            1,
            1,
            MissingData::Missing
        ));
    }
}
