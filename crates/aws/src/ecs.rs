//! ECS: a service's task counts.

use serde::Serialize;

use crate::error::{AwsError, ErrorKind};

/// Task counts of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ServiceCounts {
    /// Tasks running.
    pub running: u32,
    /// Tasks wanted.
    pub desired: u32,
    /// Tasks starting.
    pub pending: u32,
}

/// The task counts of `service` in `cluster`. A missing service is [`ErrorKind::NotFound`].
pub async fn service_counts(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
) -> Result<ServiceCounts, AwsError> {
    const OP: &str = "ecs:DescribeServices";
    let out = client
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(OP, e))?;
    let found = out
        .services()
        .iter()
        .find(|s| s.service_name() == Some(service) && s.status() != Some("INACTIVE"));
    let Some(s) = found else {
        return Err(AwsError {
            operation: OP,
            kind: ErrorKind::NotFound,
            code: None,
            message: format!("service {service} not found in cluster {cluster}"),
        });
    };
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    Ok(ServiceCounts {
        running: count(s.running_count()),
        desired: count(s.desired_count()),
        pending: count(s.pending_count()),
    })
}
