//! What the simulator assumes of AWS where AWS leaves it unsaid: every such behaviour is a parameter here, with its
//! default, the range the robust mode explores and the source, in one place ([`PARAMETERS`], rendered into the
//! docs/simulator.md by `bpi simulate --parameters`).
//!
//! Documented behaviour is not a parameter: it is the model (one SQS gauge reading a minute; target tracking's 3 and
//! 15 datapoints; a larger scale-out passes a scale-out cooldown; FILL's value for a datapoint not yet arrived).
//! The facts and their sources are collected in the project's `aws-behaviour.md` reference.

use serde::Serialize;

use crate::launch::LaunchQuota;

/// When within a minute SQS takes its one reading of the depth gauges (ApproximateNumberOfMessagesVisible /
/// NotVisible). Undocumented: a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum GaugePhase {
    /// Always this many seconds into the minute (a multiple of 10, 0-50).
    Fixed {
        /// Seconds into the minute.
        secs: u32,
    },
    /// A different 10-second slot each minute, drawn from the behaviour's seed.
    Random,
}

/// How a scale-out cooldown treats a later, larger scale-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CooldownRule {
    /// Application Auto Scaling as documented: during a scale-out cooldown a scale-out that asks for more than the
    /// last one still goes through (API reference, TargetTrackingScalingPolicyConfiguration.ScaleOutCooldown: it
    /// "won't increase the desired capacity again unless either a larger scale out is triggered or the cooldown
    /// period ends"; step scaling alike).
    LargerScaleOutPasses,
    /// Every scale-out waits for the cooldown (the simulator's earlier, stricter model; kept for comparison).
    BlocksAll,
}

/// The AWS behaviours a run assumes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AwsModel {
    /// SQS depth gauge readings per minute that reach CloudWatch: 1 (the evidence) or 6 (one every 10 s, the
    /// simulator's earlier, friendlier model).
    pub gauge_readings_per_minute: u32,
    /// When the one reading a minute is taken.
    pub gauge_phase: GaugePhase,
    /// Share of readings that land in the next minute, leaving their own minute without a datapoint and the next
    /// with two ("sometimes two in one minute and none in the next").
    pub gauge_slip_share: f64,
    /// Seconds after a minute ends before its SQS datapoint can be seen by an alarm.
    pub sqs_delay_secs: u64,
    /// After the queue has been idle this long, its metrics stop until it wakes (SQS guide: 6 hours).
    pub sqs_sleep_after_secs: u64,
    /// Seconds after a sleeping queue wakes before its metrics appear again (SQS guide: "up to 15 minutes").
    pub sqs_wake_delay_secs: u64,
    /// Seconds after a minute ends before its Container Insights RunningTaskCount (and the service's CPU) can be
    /// seen. When it is later than the SQS datapoint, an alarm's newest minute reads FILL's value for it.
    pub insights_delay_secs: u64,
    /// Seconds after a minute ends before a custom metric published by the workers or a Lambda can be seen.
    pub custom_delay_secs: u64,
    /// Seconds after a high-resolution custom datapoint is put before a 10-second alarm can see it.
    pub highres_delay_secs: u64,
    /// Seconds from launching a task to its first receive (image pull, start).
    pub task_start_secs: u64,
    /// How fast the service's tasks can be launched (Fargate's quotas, [`crate::launch`]).
    pub launch_quota: LaunchQuota,
    /// The most a target-tracking scale-in removes in one action, percent of the capacity (at least one task).
    pub scale_in_step_pct: u32,
    /// How a scale-out cooldown treats a larger scale-out.
    pub cooldown_rule: CooldownRule,
    /// Whether a scale-out by any policy (the fast path's step, say) holds target tracking's scale-in for target
    /// tracking's scale-out cooldown. Undocumented: the API reference describes each policy's cooldowns, not how one
    /// policy's scale-out bears on another's scale-in. Where it does not, a scale-in alarm still in ALARM from the
    /// quiet minutes before a burst can act on the fleet the fast path just launched, before the burst's own
    /// minute reaches target tracking.
    pub scale_out_holds_scale_in: bool,
    /// Seconds from a scheduled action's minute to its effect on the scalable target ("a delay of a few seconds",
    /// AAS user guide, scheduled scaling; the figure is a guess).
    pub scheduled_action_delay_secs: u64,
}

impl Default for AwsModel {
    fn default() -> Self {
        AwsModel {
            gauge_readings_per_minute: 1,
            gauge_phase: GaugePhase::Fixed { secs: 30 },
            gauge_slip_share: 0.05,
            sqs_delay_secs: 60,
            sqs_sleep_after_secs: 6 * 3600,
            sqs_wake_delay_secs: 900,
            insights_delay_secs: 60,
            custom_delay_secs: 60,
            highres_delay_secs: 10,
            task_start_secs: 60,
            launch_quota: LaunchQuota::PUBLISHED,
            scale_in_step_pct: 10,
            cooldown_rule: CooldownRule::LargerScaleOutPasses,
            scale_out_holds_scale_in: true,
            scheduled_action_delay_secs: 10,
        }
    }
}

impl AwsModel {
    /// The simulator's model before it was made honest: six gauge readings a minute, no slips, a scale-out
    /// cooldown that blocks everything, no launch limit (kept to show what the change did).
    pub fn legacy() -> Self {
        AwsModel {
            gauge_readings_per_minute: 6,
            gauge_phase: GaugePhase::Fixed { secs: 0 },
            gauge_slip_share: 0.0,
            launch_quota: LaunchQuota::UNLIMITED,
            cooldown_rule: CooldownRule::BlocksAll,
            ..AwsModel::default()
        }
    }

    /// A short label of what differs from the default, for the robust table's "worst under" column.
    pub fn label(&self) -> String {
        let d = AwsModel::default();
        let mut parts = Vec::new();
        if self.gauge_readings_per_minute != d.gauge_readings_per_minute {
            parts.push(format!("{} readings/min", self.gauge_readings_per_minute));
        }
        if self.gauge_phase != d.gauge_phase {
            parts.push(match self.gauge_phase {
                GaugePhase::Fixed { secs } => format!("phase :{secs:02}"),
                GaugePhase::Random => "phase random".to_string(),
            });
        }
        if (self.gauge_slip_share - d.gauge_slip_share).abs() > 1e-9 {
            parts.push(format!("slip {:.0}%", self.gauge_slip_share * 100.0));
        }
        if self.sqs_delay_secs != d.sqs_delay_secs {
            parts.push(format!("SQS delay {} s", self.sqs_delay_secs));
        }
        if self.insights_delay_secs != d.insights_delay_secs {
            parts.push(format!("Insights delay {} s", self.insights_delay_secs));
        }
        if self.custom_delay_secs != d.custom_delay_secs {
            parts.push(format!("custom delay {} s", self.custom_delay_secs));
        }
        if self.highres_delay_secs != d.highres_delay_secs {
            parts.push(format!("high-res delay {} s", self.highres_delay_secs));
        }
        if self.task_start_secs != d.task_start_secs {
            parts.push(format!("start {} s", self.task_start_secs));
        }
        if self.launch_quota != d.launch_quota {
            parts.push(if self.launch_quota == LaunchQuota::CROWDED_ACCOUNT {
                "crowded account".to_string()
            } else {
                self.launch_quota.label()
            });
        }
        if self.scale_in_step_pct != d.scale_in_step_pct {
            parts.push(format!("scale-in {}%", self.scale_in_step_pct));
        }
        if self.sqs_wake_delay_secs != d.sqs_wake_delay_secs {
            parts.push(format!("wake delay {} s", self.sqs_wake_delay_secs));
        }
        if self.cooldown_rule != d.cooldown_rule {
            parts.push("cooldown blocks all".to_string());
        }
        if self.scale_out_holds_scale_in != d.scale_out_holds_scale_in {
            parts.push("scale-in not held by other scale-outs".to_string());
        }
        if self.scheduled_action_delay_secs != d.scheduled_action_delay_secs {
            parts.push(format!(
                "scheduled actions {} s late",
                self.scheduled_action_delay_secs
            ));
        }
        if parts.is_empty() {
            "default".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// One documented parameter: its name, default, the range the robust mode explores, and where the figure comes
/// from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter {
    /// The field of [`AwsModel`].
    pub name: &'static str,
    /// The default, as text.
    pub default: &'static str,
    /// The values the robust ensemble draws from.
    pub explored: &'static str,
    /// The source, or "guess" with the reason.
    pub source: &'static str,
}

/// Every parameter of [`AwsModel`], for docs/simulator.md.
pub const PARAMETERS: &[Parameter] = &[
    Parameter {
        name: "gauge_readings_per_minute",
        default: "1",
        explored: "1",
        source: "one SQS depth datapoint a minute: AWS Support in justeattakeaway/AwsWatchman#294; AwsWatchman#262; elastic/beats#16438 (6 is the earlier model, `--legacy-model`)",
    },
    Parameter {
        name: "gauge_phase",
        default: ":30",
        explored: ":00, :10, :20, :30, :40, :50, random each minute",
        source: "undocumented (guess): the moment SQS samples within the minute",
    },
    Parameter {
        name: "gauge_slip_share",
        default: "5%",
        explored: "0-20%",
        source: "\"sometimes two in one minute and none in the next\" (AwsWatchman#294); the share is a guess",
    },
    Parameter {
        name: "sqs_delay_secs",
        default: "60",
        explored: "60, 120, 180",
        source: "SQS guide: metrics \"collected and pushed to CloudWatch every minute\"; the lag itself is a guess",
    },
    Parameter {
        name: "sqs_sleep_after_secs / sqs_wake_delay_secs",
        default: "21600 / 900",
        explored: "fixed",
        source: "SQS guide: a queue inactive for 6 hours stops publishing; after it wakes metrics may take up to 15 minutes",
    },
    Parameter {
        name: "insights_delay_secs",
        default: "60",
        explored: "60, 120",
        source: "guess: Container Insights publishes on its own clock; later than SQS, FILL(m3, 0) reads 0 (CloudWatch guide, FILL)",
    },
    Parameter {
        name: "custom_delay_secs",
        default: "60",
        explored: "60, 120",
        source: "guess: a worker or Lambda publishes once a minute at its own moment",
    },
    Parameter {
        name: "highres_delay_secs",
        default: "10",
        explored: "10, 20",
        source: "guess: CloudWatch evaluates a 10-second alarm every 10 s (CloudWatch guide, high-resolution alarms); ingestion time is undocumented",
    },
    Parameter {
        name: "task_start_secs",
        default: "60",
        explored: "20, 30, 60, 90, 180",
        source: "AWS's benchmark of high-resolution scaling: about 23 s from trigger to tasks provisioned (containers-roadmap#2113); AWS News Blog (SOCI): typically 30-90 s; reports up to 3 minutes; no published percentile",
    },
    Parameter {
        name: "launch_quota",
        default: "a burst of 100, then 20 a second; 500 a minute per service",
        explored: "published; crowded account (burst 10, 2 a second: other services hold the rest, a guess)",
        source: "ECS developer guide, Fargate throttling (a token bucket per account and Region: burst 100, 20 a second); AWS General Reference, ECS quotas (500 tasks launched per service per minute); the share of the account's bucket one service gets is undocumented",
    },
    Parameter {
        name: "scale_in_step_pct",
        default: "10",
        explored: "10, 25, 50",
        source: "AWS: target tracking scales in \"gradually\"; the step is undocumented (guess)",
    },
    Parameter {
        name: "cooldown_rule",
        default: "larger scale-out passes",
        explored: "fixed",
        source: "API reference, TargetTrackingScalingPolicyConfiguration.ScaleOutCooldown (documented)",
    },
    Parameter {
        name: "scale_out_holds_scale_in",
        default: "true",
        explored: "fixed (its effect is measured beside the robust table)",
        source: "undocumented (guess): the API reference gives each policy's cooldowns, not whether one policy's scale-out holds another's scale-in",
    },
    Parameter {
        name: "scheduled_action_delay_secs",
        default: "10",
        explored: "10, 60",
        source: "AAS user guide, scheduled scaling: \"a delay of a few seconds\" between the scheduled time and the action; the figure is a guess (60 s explored as a pessimistic one)",
    },
];

/// The parameters as a Markdown table.
pub fn parameters_table() -> String {
    let mut out =
        String::from("| parameter | default | explored | source |\n| --- | --- | --- | --- |\n");
    for p in PARAMETERS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            p.name, p.default, p.explored, p.source
        ));
    }
    out
}
