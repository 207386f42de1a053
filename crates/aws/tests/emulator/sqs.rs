use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use bpi_aws::ErrorKind;
use bpi_aws::sqs::Queue;
use bpi_core::QueueDepth;
use bpi_core::config::QueueRef;

use crate::clients;

/// Creates a queue with a DLQ (redrive after `max_receive` receives); returns (queue, dlq).
async fn queue_with_dlq(sqs: &aws_sdk_sqs::Client, max_receive: u32) -> (Queue, Queue) {
    let q = bpi_aws::fixtures::create_queue_with_dlq(
        sqs,
        &bpi_testkit::unique_name("smoke"),
        30,
        max_receive,
    )
    .await;
    (q.queue, q.dlq)
}

#[tokio::test]
async fn send_receive_delete_in_batches_and_count() {
    let clients = clients().await;
    let (queue, _dlq) = queue_with_dlq(&clients.sqs, 3).await;
    assert_eq!(queue.visibility_timeout_secs().await.expect("attr"), 30);

    let entries: Vec<_> = (0..10)
        .map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("e{i}"))
                .message_body(format!(r#"{{"id":{i},"duration":0}}"#))
                .build()
                .expect("entry")
        })
        .collect();
    let sent = clients
        .sqs
        .send_message_batch()
        .queue_url(queue.url())
        .set_entries(Some(entries))
        .send()
        .await
        .expect("send batch");
    assert_eq!(sent.successful().len(), 10);
    assert_eq!(
        queue.depth().await.expect("depth"),
        QueueDepth {
            visible: 10,
            in_flight: 0
        }
    );

    let received = clients
        .sqs
        .receive_message()
        .queue_url(queue.url())
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let messages = received.messages();
    assert!(!messages.is_empty());
    for m in messages {
        let body =
            bpi_core::parse_message(m.body().unwrap_or_default().as_bytes(), &Default::default());
        assert!(body.is_ok(), "{body:?}");
    }
    assert_eq!(
        queue.depth().await.expect("depth"),
        QueueDepth {
            visible: 10 - messages.len() as u64,
            in_flight: messages.len() as u64
        }
    );

    let deletes: Vec<_> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().expect("handle"))
                .build()
                .expect("entry")
        })
        .collect();
    let deleted = clients
        .sqs
        .delete_message_batch()
        .queue_url(queue.url())
        .set_entries(Some(deletes))
        .send()
        .await
        .expect("delete batch");
    assert_eq!(deleted.successful().len(), messages.len());
    assert_eq!(
        queue.depth().await.expect("depth"),
        QueueDepth {
            visible: 10 - messages.len() as u64,
            in_flight: 0
        }
    );
}

#[tokio::test]
async fn redrives_to_the_dlq_after_max_receive_count() {
    let clients = clients().await;
    let (queue, dlq) = queue_with_dlq(&clients.sqs, 2).await;
    clients
        .sqs
        .send_message()
        .queue_url(queue.url())
        .message_body("not json")
        .send()
        .await
        .expect("send");
    // Receive without deleting, returning the message at once each time, until it has been received twice.
    for _ in 0..2 {
        let out = clients
            .sqs
            .receive_message()
            .queue_url(queue.url())
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        let m = out.messages().first().expect("message is back");
        clients
            .sqs
            .change_message_visibility()
            .queue_url(queue.url())
            .receipt_handle(m.receipt_handle().expect("handle"))
            .visibility_timeout(0)
            .send()
            .await
            .expect("return it");
    }
    // The third receive finds it over its limit and moves it to the DLQ instead of returning it.
    let out = clients
        .sqs
        .receive_message()
        .queue_url(queue.url())
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive");
    assert!(out.messages().is_empty());
    assert_eq!(
        queue.depth().await.expect("depth"),
        QueueDepth {
            visible: 0,
            in_flight: 0
        }
    );
    assert_eq!(dlq.depth().await.expect("dlq depth").visible, 1);
}

#[tokio::test]
async fn a_missing_queue_is_not_found() {
    let clients = clients().await;
    let err = Queue::resolve(
        clients.sqs.clone(),
        &QueueRef::Name(bpi_testkit::unique_name("absent")),
    )
    .await
    .expect_err("no such queue");
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("sqs:GetQueueUrl"), "{err}");
}
