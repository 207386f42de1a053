//! The target tracking policies: on the sampler's ecsBPI towards the updater's target (held at the target while
//! the sampler is silent), and on how busy the tasks are.

use super::*;
use crate::sampler;

/// Statistic of the sampler's ecsBPI that target tracking reads: the Average of the minute's six readings.
pub const BPI_STAT: Statistic = Statistic::Average;
/// Statistic of the running-task count the utilization policy divides by.
pub const TASK_COUNT_STAT: Statistic = Statistic::Average;

const HOLD_PREFIX: &str = "IF(FILL(n, 0) > 0, m1, ";

/// The canonical ecsBPI expression for `target_value`: the sampler's ecsBPI (m1, the minute's Average) while it
/// publishes (n, its SampleCount); while it is silent, the target itself, so target tracking holds.
///
/// Why not m1 alone: a minute without data is missing, but a target tracking alarm evaluates the newest datapoints
/// that exist in its look-back (CloudWatch guide, "Configuring how CloudWatch alarms treat missing data"), so a
/// quiet queue's stale low readings could keep its 15-datapoint low alarm in ALARM, and scale in again and again,
/// for minutes after the sampler stopped (measured in the simulator). At exactly the target neither alarm breaches.
pub fn bpi_expression(target_value: f64) -> String {
    format!("{HOLD_PREFIX}{target_value})")
}

/// The canonical target tracking configuration for `target_value`: the sampler's ecsBPI, held at the target while
/// the sampler is silent ([`bpi_expression`]).
pub fn target_tracking_config(s: &PolicySettings, target_value: f64) -> TargetTrackingConfig {
    let metrics = vec![
        metric_query("m1", s.signal.metric(sampler::BPI_METRIC), BPI_STAT, None),
        metric_query(
            "n",
            s.signal.metric(sampler::BPI_METRIC),
            Statistic::SampleCount,
            None,
        ),
        expression(
            BPI_EXPRESSION_ID,
            bpi_expression(target_value),
            "ecsBPI (backlog per task, read every 10 s; the target while the sampler is silent)",
            true,
        ),
    ];
    TargetTrackingConfig {
        target_value,
        customized_metric_specification: CustomizedMetricSpecification { metrics },
        scale_out_cooldown: s.scale_out_cooldown_secs,
        scale_in_cooldown: s.scale_in_cooldown_secs,
        disable_scale_in: false,
    }
}

/// A target tracking PutScalingPolicy request named `name` with `config`.
fn target_tracking_request(
    s: &PolicySettings,
    name: String,
    config: TargetTrackingConfig,
) -> TargetTrackingPolicy {
    TargetTrackingPolicy {
        policy_name: name,
        service_namespace: SERVICE_NAMESPACE.to_string(),
        resource_id: s.resource_id(),
        scalable_dimension: SCALABLE_DIMENSION.to_string(),
        policy_type: PolicyType::TargetTracking,
        target_tracking_scaling_policy_configuration: config,
    }
}

/// The canonical target tracking PutScalingPolicy request for `target_value`.
pub fn target_tracking_policy(s: &PolicySettings, target_value: f64) -> TargetTrackingPolicy {
    target_tracking_request(
        s,
        s.policy_name.clone(),
        target_tracking_config(s, target_value),
    )
}

/// Id of the expression that returns the task utilization.
pub const UTILIZATION_EXPRESSION_ID: &str = "e1";

/// The utilization metric-math expression: the sampler's in-flight count (m4, the minute's Average of its
/// 10-second readings) over the slots its running tasks offer (m3, same readings); 0 with no running task.
///
/// Both come from the same PutMetricData call, so they arrive together. The earlier expression divided the workers'
/// Sum(MsgProcessingDuration) by the sampler's count: the workers publish a minute later than the sampler, and an
/// alarm FILLs a metric whose newest minute has not arrived with FILL's value (CloudWatch user guide, "Metric math
/// syntax and functions", FILL), so the newest datapoints read 0 busy. Target tracking sizes its scale-in from the
/// newest datapoint, so a busy fleet was allowed to halve (measured in docs/design.md, "The sampler: a signal of its
/// own").
pub fn utilization_expression(concurrency: u32) -> String {
    format!("IF(FILL(m3, 0) > 0, FILL(m4, 0) / ({concurrency} * FILL(m3, 0)), 0)")
}

/// The arithmetic of [`utilization_expression`]: messages in flight over the slots the running tasks offer (the
/// busy share, by Little's law, when in flight means being processed); 0 with no running task. The simulator and
/// the local run compute their datapoints with it.
pub fn utilization(in_flight: f64, concurrency: u32, running_tasks: f64) -> f64 {
    if running_tasks > 0.0 {
        in_flight / (f64::from(concurrency.max(1)) * running_tasks)
    } else {
        0.0
    }
}

/// The second target tracking policy: busy share of the task slots, kept at `target_pct`; the running count is the
/// sampler's, so no Container Insights is needed.
///
/// Why: backlog per task says nothing while the queue is empty. Under steady arrivals the queue stays empty as long
/// as the fleet keeps up, so ecsBPI reads near 0 and target tracking scales in, until the fleet no longer keeps up
/// and a backlog builds to the target, which is the latency promise itself. The fleet then oscillates around the
/// promise (simulator, `diurnal`: docs/design.md, the pre-sampler record). Application Auto Scaling scales out when any target tracking policy asks and scales in only when all of
/// them agree, so this policy keeps the fleet from shrinking below the work while ecsBPI still guards the
/// waiting backlog.
pub fn utilization_policy(s: &PolicySettings) -> Option<TargetTrackingPolicy> {
    let u = s.utilization.as_ref()?;
    let metrics = vec![
        metric_query(
            "m3",
            s.signal.metric(sampler::RUNNING_METRIC),
            TASK_COUNT_STAT,
            None,
        ),
        metric_query(
            "m4",
            s.signal.metric(sampler::IN_FLIGHT_METRIC),
            TASK_COUNT_STAT,
            None,
        ),
        expression(
            UTILIZATION_EXPRESSION_ID,
            utilization_expression(u.concurrency.max(1)),
            "ecsUtilization (busy share of task slots)",
            true,
        ),
    ];
    Some(target_tracking_request(
        s,
        s.utilization_policy_name(),
        TargetTrackingConfig {
            target_value: f64::from(u.target_pct.clamp(1, 100)) / 100.0,
            customized_metric_specification: CustomizedMetricSpecification { metrics },
            scale_out_cooldown: s.scale_out_cooldown_secs,
            scale_in_cooldown: s.scale_in_cooldown_secs,
            disable_scale_in: false,
        },
    ))
}

impl TargetTrackingConfig {
    /// The same configuration with another target value (and the canonical expression's hold value with it).
    pub fn with_target(&self, target_value: f64) -> Self {
        let mut c = TargetTrackingConfig {
            target_value,
            ..self.clone()
        };
        for q in &mut c.customized_metric_specification.metrics {
            if q.id == BPI_EXPRESSION_ID
                && q.expression
                    .as_deref()
                    .is_some_and(|e| e.starts_with(HOLD_PREFIX))
            {
                q.expression = Some(bpi_expression(target_value));
            }
        }
        c
    }

    /// Whether everything but the target value matches `other` (dimension order ignored). A difference is drift.
    pub fn same_except_target(&self, other: &TargetTrackingConfig) -> bool {
        self.normalized().with_target(0.0) == other.normalized().with_target(0.0)
    }

    fn normalized(&self) -> Self {
        let mut c = self.clone();
        for q in &mut c.customized_metric_specification.metrics {
            if let Some(stat) = &mut q.metric_stat {
                stat.metric.dimensions.sort();
            }
        }
        c.customized_metric_specification
            .metrics
            .sort_by(|a, b| a.id.cmp(&b.id));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::build::fixtures::{metric_names, settings, with_extras};

    #[test]
    fn target_tracking_reads_the_samplers_bpi_with_no_fill() {
        let c = target_tracking_config(&settings(), 12.0);
        let metrics = &c.customized_metric_specification.metrics;
        assert_eq!(
            metric_names(metrics),
            vec![
                ("m1".into(), sampler::BPI_METRIC.into()),
                ("n".into(), sampler::BPI_METRIC.into()),
                ("e1".into(), "IF(FILL(n, 0) > 0, m1, 12)".into())
            ]
        );
        let m1 = metrics[0].metric_stat.as_ref().expect("stat");
        assert_eq!(m1.metric.namespace, "ECS-SQS-BPI");
        assert_eq!((m1.stat.as_str(), m1.period), ("Average", None));
        let returning: Vec<_> = metrics
            .iter()
            .filter(|q| q.return_data)
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(returning, ["e1"]);
        assert_eq!((c.scale_out_cooldown, c.scale_in_cooldown), (60, 120));
        assert_eq!(c.target_value, 12.0);
        assert!(!c.disable_scale_in);
    }

    #[test]
    fn names_come_from_settings_only() {
        let c = target_tracking_config(&settings(), 12.0);
        let json = serde_json::to_string(&c).expect("json");
        assert!(
            json.contains(r#"{"Name":"QueueName","Value":"my-queue"}"#),
            "{json}"
        );
        assert!(!json.contains("ContainerInsights"), "no Container Insights");
        assert_eq!(settings().resource_id(), "service/my-cluster/my-service");
    }

    #[test]
    fn serialises_to_the_put_scaling_policy_shape() {
        let p = target_tracking_policy(&settings(), 12.0);
        let v = serde_json::to_value(&p).expect("json");
        assert_eq!(v["PolicyType"], "TargetTrackingScaling");
        assert_eq!(v["ServiceNamespace"], "ecs");
        assert_eq!(v["ScalableDimension"], "ecs:service:DesiredCount");
        let cfg = &v["TargetTrackingScalingPolicyConfiguration"];
        assert_eq!(cfg["TargetValue"], 12.0);
        assert_eq!(cfg["ScaleOutCooldown"], 60);
        let m1 = &cfg["CustomizedMetricSpecification"]["Metrics"][0];
        assert_eq!(m1["MetricStat"]["Metric"]["MetricName"], "ecsBPI");
        assert!(
            m1["MetricStat"].get("Period").is_none(),
            "target tracking takes no period"
        );
        assert_eq!(m1["ReturnData"], false);
        let back: TargetTrackingPolicy = serde_json::from_value(v).expect("round trip");
        assert_eq!(back, p);
    }

    #[test]
    fn drift_ignores_target_and_dimension_order_but_nothing_else() {
        let a = target_tracking_config(&settings(), 12.0);
        let mut b = a.with_target(8.0);
        assert_eq!(
            b,
            target_tracking_config(&settings(), 8.0),
            "the hold value moves too"
        );
        assert!(a.same_except_target(&b));
        if let Some(stat) = &mut b.customized_metric_specification.metrics[0].metric_stat {
            stat.metric.dimensions.reverse();
        }
        assert!(a.same_except_target(&b));
        let mut other_queue = settings();
        other_queue.signal.dimensions[1].value = "ecsdemo-queue".into();
        assert!(!a.same_except_target(&target_tracking_config(&other_queue, 12.0)));
        let mut cooldown = a.clone();
        cooldown.scale_in_cooldown = 240;
        assert!(!a.same_except_target(&cooldown));
    }

    #[test]
    fn the_utilization_policy_tracks_messages_in_flight_over_offered_slots() {
        let s = with_extras(settings());
        let p = utilization_policy(&s).expect("configured");
        assert_eq!(p.policy_name, "bpi-utilization");
        assert_eq!(p.resource_id, "service/my-cluster/my-service");
        let c = &p.target_tracking_scaling_policy_configuration;
        assert_eq!(c.target_value, 0.8);
        assert!(!c.disable_scale_in, "it must be able to agree to scale in");
        let metrics = &c.customized_metric_specification.metrics;
        let m4 = metrics.iter().find(|q| q.id == "m4").expect("m4");
        let stat = m4.metric_stat.as_ref().expect("stat");
        assert_eq!(stat.stat, "Average");
        assert_eq!(
            stat.metric.metric_name,
            sampler::IN_FLIGHT_METRIC,
            "the sampler's in-flight count, on the same clock as its running count"
        );
        let m3 = metrics.iter().find(|q| q.id == "m3").expect("m3");
        assert_eq!(
            m3.metric_stat.as_ref().expect("stat").metric.metric_name,
            sampler::RUNNING_METRIC,
            "the sampler's count, not Container Insights"
        );
        let returned: Vec<_> = metrics.iter().filter(|q| q.return_data).collect();
        assert_eq!(returned.len(), 1);
        assert_eq!(
            returned[0].expression.as_deref(),
            Some("IF(FILL(m3, 0) > 0, FILL(m4, 0) / (4 * FILL(m3, 0)), 0)")
        );
        assert!(
            utilization_policy(&settings()).is_none(),
            "off when not configured"
        );
    }
}
