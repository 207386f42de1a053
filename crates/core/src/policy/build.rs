//! What every policy builder shares (metric queries and expressions, step policies, the capacity ladder) and the
//! whole spec of a service; each policy's own builder is in its file (`target_tracking`, `fast_path`, `scale_in`,
//! `idle`, `backstop`).

use super::*;

/// Period of the fast path's and the idle policy's alarms, seconds: a high-resolution alarm on the sampler's
/// high-resolution metrics (CloudWatch user guide, "High-resolution alarms": periods of 10 or 30 seconds).
pub const HIGH_RESOLUTION_PERIOD_SECS: u32 = 10;
/// Most steps in a step policy (Application Auto Scaling allows 20 step adjustments per policy).
pub const MAX_STEPS: u32 = 20;
pub(crate) fn metric_query(
    id: &str,
    metric: Metric,
    stat: Statistic,
    period: Option<u32>,
) -> MetricQuery {
    MetricQuery {
        id: id.to_string(),
        expression: None,
        label: None,
        metric_stat: Some(MetricStat {
            metric,
            stat,
            period,
            unit: None,
        }),
        return_data: false,
    }
}

pub(crate) fn expression(id: &str, expr: String, label: &str, return_data: bool) -> MetricQuery {
    MetricQuery {
        id: id.to_string(),
        expression: Some(expr),
        label: Some(label.to_string()),
        metric_stat: None,
        return_data,
    }
}

/// A step scaling PutScalingPolicy request named `name` on the service of `s`.
pub(crate) fn step_policy(s: &PolicySettings, name: &str, config: StepScalingConfig) -> StepPolicy {
    StepPolicy {
        policy_name: name.to_string(),
        service_namespace: SERVICE_NAMESPACE.to_string(),
        resource_id: s.resource_id(),
        scalable_dimension: SCALABLE_DIMENSION.to_string(),
        policy_type: PolicyType::Step,
        step_scaling_policy_configuration: config,
    }
}

/// The capacities a step policy can set, for a maximum of `max_capacity`: every count up to [`MAX_STEPS`] when the
/// maximum allows, else a ladder that is exact at the bottom and grows by a constant ratio above (the smallest ratio
/// that reaches the maximum in [`MAX_STEPS`] rungs), ending at the maximum. A need between two rungs gets the upper
/// one: more tasks, never fewer.
///
/// Why a ladder: Application Auto Scaling takes at most 20 step adjustments a policy, and steps of one width
/// (⌈max / 20⌉) rounded small needs up by up to the width: with 60 tasks, one message launched 3 tasks (sparse
/// traffic ran more than twice the task-hours of exact steps: docs/simulator.md). The ladder for 60 is
/// 1-7 exact, then 9, 11, 13, 15, 18, 21, 25, 29, 34, 39, 45, 52, 60 (a need is rounded up by at most about a
/// fifth).
pub fn capacity_ladder(max_capacity: u32) -> Vec<u32> {
    let max = max_capacity.max(1);
    if max <= MAX_STEPS {
        return (1..=max).collect();
    }
    let rungs = |ratio: f64| -> Vec<u32> {
        let mut out = vec![1u32];
        while let Some(&last) = out.last()
            && last < max
        {
            let next = ((f64::from(last) * ratio).ceil() as u32).max(last + 1);
            out.push(next.min(max));
        }
        out
    };
    // The smallest ratio (to a thousandth) whose ladder fits.
    let (mut low, mut high) = (1.0_f64, f64::from(max));
    while high - low > 0.001 {
        let mid = (low + high) / 2.0;
        if rungs(mid).len() as u32 <= MAX_STEPS {
            high = mid;
        } else {
            low = mid;
        }
    }
    rungs(high)
}

/// The steps that set the capacity to the breach (an alarm on a task count with threshold 0): a breach of c tasks
/// sets the ladder's rung at or above c ([`capacity_ladder`]), at most the maximum.
pub(crate) fn capacity_steps(max_capacity: u32) -> Vec<StepAdjustment> {
    let ladder = capacity_ladder(max_capacity);
    let last = ladder.len() - 1;
    ladder
        .iter()
        .enumerate()
        .map(|(k, &rung)| StepAdjustment {
            // Breaches are whole task counts: rung k takes (rung k-1, rung k].
            metric_interval_lower_bound: Some(if k == 0 {
                0.0
            } else {
                f64::from(ladder[k - 1]) + 0.5
            }),
            metric_interval_upper_bound: (k < last).then(|| f64::from(rung) + 0.5),
            scaling_adjustment: i32::try_from(rung).unwrap_or(i32::MAX),
        })
        .collect()
}

/// The whole scaling setup for `target_value`.
pub fn scaling_spec(s: &PolicySettings, target_value: f64) -> ScalingSpec {
    ScalingSpec {
        scalable_target: ScalableTargetSpec {
            service_namespace: SERVICE_NAMESPACE.to_string(),
            resource_id: s.resource_id(),
            scalable_dimension: SCALABLE_DIMENSION.to_string(),
            min_capacity: s.min_capacity,
            max_capacity: s.max_capacity,
        },
        target_tracking: target_tracking_policy(s, target_value),
        utilization: utilization_policy(s),
        fast_path: fast_path_spec(s),
        idle: idle_spec(s),
        scale_in: scale_in_spec(s),
        backstop: backstop_spec(s),
    }
}

/// Id of the expression an alarm with metric math (idle, backstop) evaluates.
pub const ALARM_EXPRESSION_ID: &str = "e1";

/// What the policy builders' tests share: settings with every optional policy off (and with them on), and the ids
/// and metrics of a query list.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub(crate) fn settings() -> PolicySettings {
        PolicySettings {
            policy_name: "bpi".into(),
            utilization: None,
            idle_minutes: 0,
            scale_in_window_minutes: 0,
            ..PolicySettings::for_service("my-cluster", "my-service", "my-queue")
        }
    }

    pub(crate) fn metric_names(queries: &[MetricQuery]) -> Vec<(String, String)> {
        queries
            .iter()
            .map(|q| {
                (
                    q.id.clone(),
                    q.metric_stat
                        .as_ref()
                        .map(|m| m.metric.metric_name.clone())
                        .or_else(|| q.expression.clone())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    pub(crate) fn with_extras(mut s: PolicySettings) -> PolicySettings {
        s.utilization = Some(UtilizationSettings {
            concurrency: 4,
            target_pct: 80,
        });
        s.idle_minutes = 3;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::build::fixtures::{settings, with_extras};

    #[test]
    fn alarm_names_carry_the_service_so_two_services_never_share_one() {
        let a = with_extras(settings());
        let b = PolicySettings {
            service_name: "other".into(),
            ..a.clone()
        };
        assert_eq!(a.policy_name, b.policy_name);
        let (ia, ib) = (
            idle_spec(&a).expect("a").alarm.alarm_name,
            idle_spec(&b).expect("b").alarm.alarm_name,
        );
        assert_ne!(ia, ib);
        assert_eq!(ia, "StepScaling-service/my-cluster/my-service-bpi-idle");
        assert_eq!(
            fast_path_spec(&a).alarm.alarm_name,
            a.alarm_name(&a.fast_path_policy_name())
        );
        // The retired scale-from-zero alarm is still named, so that apply and remove clean it up.
        assert!(
            a.alarm_names()
                .contains(&a.alarm_name(&a.retired_scale_from_zero_policy_name()))
        );
        // And the sampler-stopped alarm bpi attach writes, named for the service too.
        assert!(
            a.alarm_names()
                .contains(&"SamplerStopped-service/my-cluster/my-service".to_string())
        );
        assert_eq!(a.alarm_names().len(), 6);
    }
}
