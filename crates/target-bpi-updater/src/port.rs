//! What the updater needs from AWS, behind one small trait: the statistic sets of the processing durations, SQS's
//! own activity (for Little's law), the policy in force, writing the policy, publishing what was used, for the
//! forecaster and the keep-alive the queue's NumberOfMessagesSent, the service's scheduled actions and its scalable
//! target's bounds. [`AwsClients`] is the real adapter (the SDK, over
//! HTTP); the unit tests use an in-memory one, so the updater's branches (measured, kept, fallback, drift, dry run)
//! run without the emulator, which stays the end-to-end proof.

use std::future::Future;
use std::time::{Duration, SystemTime};

use bpi_aws::autoscaling::{
    describe_target_tracking_policy, put_target_tracking_policy, register_scalable_target,
    scalable_target_bounds,
};
use bpi_aws::cloudwatch::{
    MetricUnit, Resolution, SamplerMetrics, put_values, read_duration_stats, read_messages_sent,
    read_queue_activity,
};
use bpi_aws::scheduled::{delete_scheduled_action, put_scheduled_action, scheduled_actions};
use bpi_aws::{AwsClients, AwsError};
use bpi_core::config::{QUEUE_DIMENSION, TYPE_DIMENSION, UpdaterConfig};
use bpi_core::forecast::{DeleteScheduledActionRequest, ExistingAction, ScheduledActionRequest};
use bpi_core::policy::{
    SCALABLE_DIMENSION, SERVICE_NAMESPACE, ScalableTargetSpec, TargetTrackingConfig,
    TargetTrackingPolicy,
};
use bpi_core::{ActivityMinute, StatisticSet};

/// Name of the published metric carrying the MPD the target rests on.
pub const MPD_METRIC_NAME: &str = "ecsMPD";

/// The updater's AWS operations.
pub trait UpdaterPort: Send + Sync {
    /// The per-minute statistic sets of the processing durations over `window` ending at `end`.
    fn duration_stats(
        &self,
        config: &UpdaterConfig,
        window: Duration,
        end: SystemTime,
    ) -> impl Future<Output = Result<Vec<StatisticSet>, AwsError>> + Send;

    /// SQS's per-minute activity of the queue (in flight, deletions) over `window` ending at `end`: the estimate
    /// of MPD by Little's law when the workers publish no durations.
    fn queue_activity(
        &self,
        config: &UpdaterConfig,
        window: Duration,
        end: SystemTime,
    ) -> impl Future<Output = Result<Vec<ActivityMinute>, AwsError>> + Send;

    /// The target tracking policy in force for the service, by name (None: there is none).
    fn current_policy(
        &self,
        config: &UpdaterConfig,
    ) -> impl Future<Output = Result<Option<TargetTrackingConfig>, AwsError>> + Send;

    /// Writes `policy` (PutScalingPolicy).
    fn write_policy(
        &self,
        policy: &TargetTrackingPolicy,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// The queue's NumberOfMessagesSent per minute over `window` ending at `end`: (epoch seconds, messages).
    fn messages_sent(
        &self,
        config: &UpdaterConfig,
        window: Duration,
        end: SystemTime,
    ) -> impl Future<Output = Result<Vec<(i64, f64)>, AwsError>> + Send;

    /// Every scheduled action on the service (the user's too).
    fn scheduled_actions(
        &self,
        config: &UpdaterConfig,
    ) -> impl Future<Output = Result<Vec<ExistingAction>, AwsError>> + Send;

    /// PutScheduledAction.
    fn put_scheduled_action(
        &self,
        request: &ScheduledActionRequest,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// DeleteScheduledAction.
    fn delete_scheduled_action(
        &self,
        request: &DeleteScheduledActionRequest,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// The scalable target's (min, max) capacity (None: not registered).
    fn capacity_bounds(
        &self,
        config: &UpdaterConfig,
    ) -> impl Future<Output = Result<Option<(u32, u32)>, AwsError>> + Send;

    /// RegisterScalableTarget on the service with `min` and `max`: the keep-alive's minimum, the maximum as it is.
    fn set_capacity_bounds(
        &self,
        config: &UpdaterConfig,
        min: u32,
        max: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// Publishes the target in force and the measured MPD (when known) as of `now`.
    fn publish(
        &self,
        config: &UpdaterConfig,
        target: f64,
        mpd_secs: Option<f64>,
        now: SystemTime,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

impl UpdaterPort for AwsClients {
    async fn duration_stats(
        &self,
        config: &UpdaterConfig,
        window: Duration,
        end: SystemTime,
    ) -> Result<Vec<StatisticSet>, AwsError> {
        read_duration_stats(
            &self.cloudwatch,
            &config.metrics,
            &config.policy.queue_name,
            window,
            end,
        )
        .await
    }

    async fn queue_activity(
        &self,
        config: &UpdaterConfig,
        window: Duration,
        end: SystemTime,
    ) -> Result<Vec<ActivityMinute>, AwsError> {
        let dims = [
            (TYPE_DIMENSION, config.metrics.metric_type.as_str()),
            (QUEUE_DIMENSION, config.policy.queue_name.as_str()),
        ];
        let sampler = SamplerMetrics {
            namespace: &config.metrics.namespace,
            dimensions: &dims,
        };
        read_queue_activity(
            &self.cloudwatch,
            &config.policy.queue_name,
            sampler,
            window,
            end,
        )
        .await
    }

    async fn current_policy(
        &self,
        config: &UpdaterConfig,
    ) -> Result<Option<TargetTrackingConfig>, AwsError> {
        describe_target_tracking_policy(
            &self.autoscaling,
            &config.policy.resource_id(),
            &config.policy.policy_name,
        )
        .await
    }

    async fn write_policy(&self, policy: &TargetTrackingPolicy) -> Result<(), AwsError> {
        put_target_tracking_policy(&self.autoscaling, policy)
            .await
            .map(|_arn| ())
    }

    async fn messages_sent(
        &self,
        config: &UpdaterConfig,
        window: Duration,
        end: SystemTime,
    ) -> Result<Vec<(i64, f64)>, AwsError> {
        read_messages_sent(&self.cloudwatch, &config.policy.queue_name, window, end).await
    }

    async fn scheduled_actions(
        &self,
        config: &UpdaterConfig,
    ) -> Result<Vec<ExistingAction>, AwsError> {
        scheduled_actions(&self.autoscaling, &config.policy.resource_id()).await
    }

    async fn put_scheduled_action(&self, request: &ScheduledActionRequest) -> Result<(), AwsError> {
        put_scheduled_action(&self.autoscaling, request).await
    }

    async fn delete_scheduled_action(
        &self,
        request: &DeleteScheduledActionRequest,
    ) -> Result<(), AwsError> {
        delete_scheduled_action(&self.autoscaling, request).await
    }

    async fn capacity_bounds(
        &self,
        config: &UpdaterConfig,
    ) -> Result<Option<(u32, u32)>, AwsError> {
        let bounds =
            scalable_target_bounds(&self.autoscaling, &config.policy.resource_id()).await?;
        Ok(bounds.map(|(min, max)| {
            (
                u32::try_from(min).unwrap_or(0),
                u32::try_from(max).unwrap_or(0),
            )
        }))
    }

    async fn set_capacity_bounds(
        &self,
        config: &UpdaterConfig,
        min: u32,
        max: u32,
    ) -> Result<(), AwsError> {
        let spec = ScalableTargetSpec {
            service_namespace: SERVICE_NAMESPACE.to_string(),
            resource_id: config.policy.resource_id(),
            scalable_dimension: SCALABLE_DIMENSION.to_string(),
            min_capacity: min,
            max_capacity: max,
        };
        register_scalable_target(&self.autoscaling, &spec).await
    }

    async fn publish(
        &self,
        config: &UpdaterConfig,
        target: f64,
        mpd_secs: Option<f64>,
        now: SystemTime,
    ) -> Result<(), AwsError> {
        let mut values = vec![(config.bpi_metric_name.as_str(), target, MetricUnit::Count)];
        if let Some(m) = mpd_secs {
            values.push((MPD_METRIC_NAME, m, MetricUnit::Seconds));
        }
        let dims = [
            (TYPE_DIMENSION, config.metrics.metric_type.as_str()),
            (QUEUE_DIMENSION, config.policy.queue_name.as_str()),
        ];
        put_values(
            &self.cloudwatch,
            &config.metrics.namespace,
            &dims,
            &values,
            now,
            Resolution::Standard,
        )
        .await
    }
}
