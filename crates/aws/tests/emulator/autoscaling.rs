use bpi_aws::autoscaling::{
    describe_target_tracking_policy, put_step_policy, put_target_tracking_policy,
    register_scalable_target, scalable_target_bounds,
};
use bpi_core::policy::{PolicySettings, scaling_spec, target_tracking_config};

use crate::{clients, create_service};

fn settings(cluster: &str, service: &str, min_capacity: u32) -> PolicySettings {
    PolicySettings {
        queue_name: bpi_testkit::unique_name("q"),
        min_capacity,
        utilization: None,
        idle_minutes: 0,
        scale_in_window_minutes: 0,
        ..PolicySettings::for_service(cluster, service, "q")
    }
}

#[tokio::test]
async fn the_canonical_policy_is_written_and_described_back_unchanged() {
    let clients = clients().await;
    let (cluster, service) = create_service(&clients, 1).await;
    let s = settings(&cluster, &service, 1);
    let spec = scaling_spec(&s, 12.0);

    register_scalable_target(&clients.autoscaling, &spec.scalable_target)
        .await
        .expect("register");
    assert_eq!(
        scalable_target_bounds(&clients.autoscaling, &s.resource_id())
            .await
            .expect("describe"),
        Some((1, 10))
    );
    let arn = put_target_tracking_policy(&clients.autoscaling, &spec.target_tracking)
        .await
        .expect("put");
    assert!(arn.contains(&s.policy_name), "{arn}");

    let read =
        describe_target_tracking_policy(&clients.autoscaling, &s.resource_id(), &s.policy_name)
            .await
            .expect("describe")
            .expect("policy exists");
    assert_eq!(
        read,
        target_tracking_config(&s, 12.0),
        "field by field equal to core's spec"
    );

    // Looked up by name AND resource id: the same name on another service, or another name, is not ours.
    assert_eq!(
        describe_target_tracking_policy(
            &clients.autoscaling,
            "service/other/other",
            &s.policy_name
        )
        .await
        .expect("describe"),
        None
    );
    assert_eq!(
        describe_target_tracking_policy(&clients.autoscaling, &s.resource_id(), "absent")
            .await
            .expect("describe"),
        None
    );
}

#[tokio::test]
async fn the_fast_path_and_backstop_step_policies_are_written() {
    let clients = clients().await;
    let (cluster, service) = create_service(&clients, 0).await;
    let s = settings(&cluster, &service, 0);
    let spec = scaling_spec(&s, 12.0);
    register_scalable_target(&clients.autoscaling, &spec.scalable_target)
        .await
        .expect("register");
    assert_eq!(
        scalable_target_bounds(&clients.autoscaling, &s.resource_id())
            .await
            .expect("describe"),
        Some((0, 10))
    );
    let fast_path = spec.fast_path;
    let arn = put_step_policy(&clients.autoscaling, &fast_path.policy)
        .await
        .expect("put step policy");
    assert!(arn.contains(&fast_path.policy.policy_name), "{arn}");
    let backstop = put_step_policy(&clients.autoscaling, &spec.backstop.policy)
        .await
        .expect("put the backstop (PercentChangeInCapacity with a minimum magnitude)");
    assert!(backstop.contains("backstop"), "{backstop}");

    let policies = clients
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_id(s.resource_id())
        .send()
        .await
        .expect("describe");
    let step = policies
        .scaling_policies()
        .iter()
        .find(|p| p.policy_name() == fast_path.policy.policy_name)
        .and_then(|p| p.step_scaling_policy_configuration())
        .expect("step policy");
    assert_eq!(step.step_adjustments()[0].scaling_adjustment(), 1);
    assert_eq!(
        step.step_adjustments()[0].metric_interval_lower_bound(),
        Some(0.0)
    );
}
