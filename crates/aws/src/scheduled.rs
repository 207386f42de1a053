//! Application Auto Scaling's scheduled actions on a service: read, written and deleted for the forecaster
//! (core's `forecast`), which owns only the actions whose names carry its prefix. Sources: the AAS API reference
//! (PutScheduledAction, DescribeScheduledActions, DeleteScheduledAction); the requests are core's, checked against
//! botocore's model in the tests.

use aws_sdk_applicationautoscaling::types::{
    ScalableDimension, ScalableTargetAction, ScheduledAction, ServiceNamespace,
};
use bpi_core::forecast::{DeleteScheduledActionRequest, ExistingAction, ScheduledActionRequest};

use crate::error::AwsError;

/// Every scheduled action on `resource_id` as the SDK returns it (DescribeScheduledActions, NextToken followed).
pub(crate) async fn describe_all(
    client: &aws_sdk_applicationautoscaling::Client,
    resource_id: &str,
) -> Result<Vec<ScheduledAction>, AwsError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .describe_scheduled_actions()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("application-autoscaling:DescribeScheduledActions", e)
            })?;
        out.extend(
            page.scheduled_actions()
                .iter()
                .filter(|a| a.resource_id() == resource_id)
                .cloned(),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

/// Every scheduled action on `resource_id`, the user's included, as the forecaster reads them.
pub async fn scheduled_actions(
    client: &aws_sdk_applicationautoscaling::Client,
    resource_id: &str,
) -> Result<Vec<ExistingAction>, AwsError> {
    let mut out: Vec<ExistingAction> = describe_all(client, resource_id)
        .await?
        .iter()
        .map(|a| ExistingAction {
            name: a.scheduled_action_name().to_string(),
            schedule: a.schedule().to_string(),
            timezone: a.timezone().map(str::to_string),
            min_capacity: a
                .scalable_target_action()
                .and_then(ScalableTargetAction::min_capacity)
                .and_then(|m| u32::try_from(m).ok()),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// PutScheduledAction: creates the action or replaces the one of that name.
pub async fn put_scheduled_action(
    client: &aws_sdk_applicationautoscaling::Client,
    request: &ScheduledActionRequest,
) -> Result<(), AwsError> {
    client
        .put_scheduled_action()
        .service_namespace(ServiceNamespace::from(request.service_namespace.as_str()))
        .scheduled_action_name(&request.scheduled_action_name)
        .resource_id(&request.resource_id)
        .scalable_dimension(ScalableDimension::from(request.scalable_dimension.as_str()))
        .schedule(&request.schedule)
        .timezone(&request.timezone)
        .scalable_target_action(
            ScalableTargetAction::builder()
                .min_capacity(
                    i32::try_from(request.scalable_target_action.min_capacity).unwrap_or(i32::MAX),
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("application-autoscaling:PutScheduledAction", e))?;
    Ok(())
}

/// DeleteScheduledAction (missing is not an error: the reconcile may race a user's own delete).
pub async fn delete_scheduled_action(
    client: &aws_sdk_applicationautoscaling::Client,
    request: &DeleteScheduledActionRequest,
) -> Result<(), AwsError> {
    let result = client
        .delete_scheduled_action()
        .service_namespace(ServiceNamespace::from(request.service_namespace.as_str()))
        .scheduled_action_name(&request.scheduled_action_name)
        .resource_id(&request.resource_id)
        .scalable_dimension(ScalableDimension::from(request.scalable_dimension.as_str()))
        .send()
        .await;
    result
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("application-autoscaling:DeleteScheduledAction", e))
        .or_else(AwsError::ignore_not_found)
}
