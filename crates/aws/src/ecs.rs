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

/// The task counts of up to ten `services` of `cluster` in one DescribeServices call (ECS takes at most ten a call:
/// core's [`bpi_core::fleet::SERVICES_PER_DESCRIBE`]), each with its own result: a service ECS does not know, or
/// an inactive one, is [`ErrorKind::NotFound`] for it alone; a failed call fails every one of them.
pub async fn services_counts(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    services: &[String],
) -> Vec<(String, Result<ServiceCounts, AwsError>)> {
    const OP: &str = "ecs:DescribeServices";
    let out = match client
        .describe_services()
        .cluster(cluster)
        .set_services(Some(services.to_vec()))
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = AwsError::from_sdk(OP, e);
            return services
                .iter()
                .map(|s| (s.clone(), Err(e.clone())))
                .collect();
        }
    };
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    services
        .iter()
        .map(|name| {
            let found = out.services().iter().find(|s| {
                s.service_name() == Some(name.as_str()) && s.status() != Some("INACTIVE")
            });
            let result = match found {
                Some(s) => Ok(ServiceCounts {
                    running: count(s.running_count()),
                    desired: count(s.desired_count()),
                    pending: count(s.pending_count()),
                }),
                None => Err(AwsError {
                    operation: OP,
                    kind: ErrorKind::NotFound,
                    code: None,
                    message: format!("service {name} not found in cluster {cluster}"),
                }),
            };
            (name.clone(), result)
        })
        .collect()
}
