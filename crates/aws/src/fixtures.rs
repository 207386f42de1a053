//! Test fixtures (feature `test-fixtures`): queues with a DLQ and ECS services, created through the real SDK on the
//! local emulator. Shared by every crate's integration tests so the set-up is written once.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use bpi_core::config::QueueRef;

use crate::AwsClients;
use crate::sqs::Queue;

/// Every client, pointed at the local emulator at `endpoint` (the test harness's `bpi_testkit::emulator()`): the
/// one way the integration tests build their clients.
pub async fn emulator_clients(endpoint: &str) -> AwsClients {
    AwsClients::new(&crate::local_emulator_config(endpoint).await)
}

/// A queue and its dead-letter queue.
#[derive(Debug, Clone)]
pub struct QueueWithDlq {
    /// The queue.
    pub queue: Queue,
    /// Its DLQ.
    pub dlq: Queue,
}

/// Creates `name` and `name-dlq` (`.fifo` names make FIFO queues), with `visibility_secs` and redrive after
/// `max_receive` receives.
pub async fn create_queue_with_dlq(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    visibility_secs: u32,
    max_receive: u32,
) -> QueueWithDlq {
    let fifo = name.ends_with(".fifo");
    let base = name.trim_end_matches(".fifo");
    let dlq_name = if fifo {
        format!("{base}-dlq.fifo")
    } else {
        format!("{base}-dlq")
    };
    let fifo_attrs = |mut attrs: HashMap<QueueAttributeName, String>| {
        if fifo {
            attrs.insert(QueueAttributeName::FifoQueue, "true".to_string());
        }
        attrs
    };
    let dlq_url = sqs
        .create_queue()
        .queue_name(&dlq_name)
        .set_attributes(Some(fifo_attrs(HashMap::new())))
        .send()
        .await
        .expect("create dlq")
        .queue_url()
        .expect("dlq url")
        .to_string();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dlq arn")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("arn");
    sqs.create_queue()
        .queue_name(name)
        .set_attributes(Some(fifo_attrs(HashMap::from([
            (
                QueueAttributeName::RedrivePolicy,
                format!(
                    r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max_receive}"}}"#
                ),
            ),
            (
                QueueAttributeName::VisibilityTimeout,
                visibility_secs.to_string(),
            ),
        ]))))
        .send()
        .await
        .expect("create queue");
    QueueWithDlq {
        queue: Queue::resolve(sqs.clone(), &QueueRef::Name(name.to_string()))
            .await
            .expect("resolve queue"),
        dlq: Queue::resolve(sqs.clone(), &QueueRef::Url(dlq_url))
            .await
            .expect("resolve dlq"),
    }
}

/// Creates cluster `cluster` (if need be) and a service `service` of `desired` tasks in it.
pub async fn create_service(clients: &AwsClients, cluster: &str, service: &str, desired: i32) {
    clients
        .ecs
        .create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .expect("create cluster");
    let family = format!("{service}-family");
    clients
        .ecs
        .register_task_definition()
        .family(&family)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("worker")
                .image("worker:test")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    clients
        .ecs
        .create_service()
        .cluster(cluster)
        .service_name(service)
        .task_definition(&family)
        .desired_count(desired)
        .send()
        .await
        .expect("create service");
}

/// Puts `count` messages sent to `queue` in the minute starting at `at`: SQS's own NumberOfMessagesSent (namespace
/// `AWS/SQS`), which moto takes from a client; on AWS only SQS writes it. The forecaster's history, set by a test.
pub async fn put_messages_sent(
    clients: &AwsClients,
    queue: &str,
    at: std::time::SystemTime,
    count: f64,
) {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    clients
        .cloudwatch
        .put_metric_data()
        .namespace("AWS/SQS")
        .metric_data(
            MetricDatum::builder()
                .metric_name("NumberOfMessagesSent")
                .dimensions(Dimension::builder().name("QueueName").value(queue).build())
                .value(count)
                .unit(StandardUnit::Count)
                .timestamp(DateTime::from(at))
                .build(),
        )
        .send()
        .await
        .expect("put NumberOfMessagesSent");
}
