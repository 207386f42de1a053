//! Smoke tests of every AWS service the project uses, against the local emulator (moto server) over HTTP with the
//! real SDK clients. Each test creates its own uniquely named resources, so tests run in parallel.

#![allow(clippy::float_cmp)] // exact expected values

mod autoscaling;
mod cloudwatch;
mod ecs;
mod sqs;

use bpi_aws::AwsClients;

/// Clients pointed at the shared emulator (started on first use).
pub async fn clients() -> AwsClients {
    bpi_aws::fixtures::emulator_clients(&bpi_testkit::emulator().endpoint).await
}

/// Creates an ECS cluster and a service of `desired` tasks in it; returns (cluster, service).
pub async fn create_service(clients: &AwsClients, desired: i32) -> (String, String) {
    let cluster = bpi_testkit::unique_name("cluster");
    let service = bpi_testkit::unique_name("service");
    bpi_aws::fixtures::create_service(clients, &cluster, &service, desired).await;
    (cluster, service)
}
