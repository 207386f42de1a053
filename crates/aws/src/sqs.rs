//! SQS: resolving a queue, its depth and attributes, and the batch calls of the worker and the producer.

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};
use bpi_core::QueueDepth;
use bpi_core::config::QueueRef;

use crate::error::AwsError;

/// A message as received: what the worker needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// SQS's message id.
    pub message_id: String,
    /// The handle to delete it or change its visibility with.
    pub receipt_handle: String,
    /// The body.
    pub body: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
    /// When SQS accepted it (SentTimestamp), milliseconds since the Unix epoch.
    pub sent_at_ms: Option<u64>,
    /// When it was first received (ApproximateFirstReceiveTimestamp), milliseconds since the Unix epoch.
    pub first_received_at_ms: Option<u64>,
    /// Its message group (MessageGroupId): on a FIFO queue, the order it is kept in; on a standard queue, a fair
    /// queue's tenant.
    pub group_id: Option<String>,
    /// Its place in its group (SequenceNumber, FIFO queues only).
    pub sequence_number: Option<String>,
}

/// Entries of a batch call that failed, by their receipt handle, with the service's reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchFailures {
    /// (receipt handle, error code, message) per failed entry.
    pub failed: Vec<(String, String, String)>,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The body.
    pub body: String,
    /// MessageGroupId (FIFO queues only).
    pub group_id: Option<String>,
    /// MessageDeduplicationId (FIFO queues only).
    pub deduplication_id: Option<String>,
}

/// An entry of a SendMessageBatch that the queue refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// Index of the entry in the batch.
    pub index: usize,
    /// The error code.
    pub code: String,
    /// Whether the request itself was at fault (retrying it unchanged cannot succeed).
    pub sender_fault: bool,
}

/// A resolved queue: its URL and name.
#[derive(Debug, Clone)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
    name: String,
}

impl Queue {
    /// Resolves `queue` (a name is looked up with GetQueueUrl; a URL is taken as is and checked).
    /// A queue that does not exist is an error of kind `NotFound`.
    pub async fn resolve(client: aws_sdk_sqs::Client, queue: &QueueRef) -> Result<Self, AwsError> {
        let url = match queue {
            QueueRef::Url(url) => url.clone(),
            QueueRef::Name(name) => client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("sqs:GetQueueUrl", e))?
                .queue_url()
                .map(str::to_string)
                .ok_or_else(|| AwsError::other("sqs:GetQueueUrl", "no QueueUrl in the response"))?,
        };
        let queue = Queue {
            client,
            name: queue.name().to_string(),
            url,
        };
        // Fails fast, with NotFound or AccessDenied, for a URL that names no queue we can use.
        queue.depth().await?;
        Ok(queue)
    }

    /// The queue URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The queue name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The SQS client.
    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    async fn attributes(
        &self,
        names: &[QueueAttributeName],
    ) -> Result<std::collections::HashMap<QueueAttributeName, String>, AwsError> {
        let mut req = self.client.get_queue_attributes().queue_url(&self.url);
        for n in names {
            req = req.attribute_names(n.clone());
        }
        let out = req
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sqs:GetQueueAttributes", e))?;
        Ok(out.attributes().cloned().unwrap_or_default())
    }

    /// Visible and in-flight message counts (`ApproximateNumberOfMessages[NotVisible]`).
    pub async fn depth(&self) -> Result<QueueDepth, AwsError> {
        let attrs = self
            .attributes(&[
                QueueAttributeName::ApproximateNumberOfMessages,
                QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            ])
            .await?;
        let count = |n: &QueueAttributeName| -> u64 {
            attrs.get(n).and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        Ok(QueueDepth {
            visible: count(&QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        })
    }

    /// The queue's visibility timeout in seconds.
    pub async fn visibility_timeout_secs(&self) -> Result<u32, AwsError> {
        let attrs = self
            .attributes(&[QueueAttributeName::VisibilityTimeout])
            .await?;
        attrs
            .get(&QueueAttributeName::VisibilityTimeout)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                AwsError::other("sqs:GetQueueAttributes", "no VisibilityTimeout attribute")
            })
    }

    /// Whether this is a FIFO queue (its name ends in `.fifo`).
    pub fn is_fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }

    /// Sends up to 10 messages in one call; reports the entries refused.
    pub async fn send_batch(&self, messages: &[Outgoing]) -> Result<Vec<SendFailure>, AwsError> {
        const OP: &str = "sqs:SendMessageBatch";
        let entries = batch_entries(OP, messages, |id, m| {
            SendMessageBatchRequestEntry::builder()
                .id(id)
                .message_body(&m.body)
                .set_message_group_id(m.group_id.clone())
                .set_message_deduplication_id(m.deduplication_id.clone())
                .build()
        })?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        Ok(out
            .failed()
            .iter()
            .filter_map(|f| {
                Some(SendFailure {
                    index: f.id().parse().ok()?,
                    code: f.code().to_string(),
                    sender_fault: f.sender_fault(),
                })
            })
            .collect())
    }

    /// The queue's redrive policy (JSON), if it has one. Without one, a poison message is retried until the
    /// retention period ends.
    pub async fn redrive_policy(&self) -> Result<Option<String>, AwsError> {
        let attrs = self
            .attributes(&[QueueAttributeName::RedrivePolicy])
            .await?;
        Ok(attrs.get(&QueueAttributeName::RedrivePolicy).cloned())
    }

    /// Long-polls for up to `max` (1-10) messages, waiting up to `wait_secs` (0-20).
    pub async fn receive(&self, max: u32, wait_secs: u32) -> Result<Vec<Received>, AwsError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(i32::try_from(max.clamp(1, 10)).unwrap_or(10))
            .wait_time_seconds(i32::try_from(wait_secs.min(20)).unwrap_or(20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(
                MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
            )
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .message_system_attribute_names(MessageSystemAttributeName::SequenceNumber)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sqs:ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                let text = |name: MessageSystemAttributeName| {
                    m.attributes().and_then(|a| a.get(&name)).cloned()
                };
                let timestamp =
                    |name: MessageSystemAttributeName| text(name).and_then(|v| v.parse().ok());
                Some(Received {
                    message_id: m.message_id()?.to_string(),
                    receipt_handle: m.receipt_handle()?.to_string(),
                    body: m.body().unwrap_or_default().to_string(),
                    receive_count: m
                        .attributes()
                        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1),
                    sent_at_ms: timestamp(MessageSystemAttributeName::SentTimestamp),
                    first_received_at_ms: timestamp(
                        MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
                    ),
                    group_id: text(MessageSystemAttributeName::MessageGroupId),
                    sequence_number: text(MessageSystemAttributeName::SequenceNumber),
                })
            })
            .collect())
    }

    /// Deletes up to 10 messages in one call; reports the entries that failed.
    pub async fn delete_batch(
        &self,
        receipt_handles: &[String],
    ) -> Result<BatchFailures, AwsError> {
        const OP: &str = "sqs:DeleteMessageBatch";
        let entries = batch_entries(OP, receipt_handles, |id, h| {
            DeleteMessageBatchRequestEntry::builder()
                .id(id)
                .receipt_handle(h)
                .build()
        })?;
        let out = self
            .client
            .delete_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        Ok(failures(
            receipt_handles,
            out.failed().iter().map(|f| (f.id(), f.code(), f.message())),
        ))
    }

    /// Sets the visibility timeout of up to 10 messages in one call: extends it (heartbeat) or, with 0, returns
    /// the messages to the queue at once. Reports the entries that failed.
    pub async fn change_visibility_batch(
        &self,
        receipt_handles: &[String],
        visibility_timeout_secs: u32,
    ) -> Result<BatchFailures, AwsError> {
        const OP: &str = "sqs:ChangeMessageVisibilityBatch";
        let secs = i32::try_from(visibility_timeout_secs.min(43_200)).unwrap_or(43_200);
        let entries = batch_entries(OP, receipt_handles, |id, h| {
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(id)
                .receipt_handle(h)
                .visibility_timeout(secs)
                .build()
        })?;
        let out = self
            .client
            .change_message_visibility_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        Ok(failures(
            receipt_handles,
            out.failed().iter().map(|f| (f.id(), f.code(), f.message())),
        ))
    }
}

/// Builds one batch entry per item, numbered by position (the id batch results refer back to).
fn batch_entries<I, T>(
    op: &'static str,
    items: &[I],
    build: impl Fn(String, &I) -> Result<T, aws_smithy_types::error::operation::BuildError>,
) -> Result<Vec<T>, AwsError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| build(i.to_string(), item).map_err(|e| AwsError::other(op, e.to_string())))
        .collect()
}

fn failures<'a>(
    handles: &[String],
    failed: impl Iterator<Item = (&'a str, &'a str, Option<&'a str>)>,
) -> BatchFailures {
    BatchFailures {
        failed: failed
            .filter_map(|(id, code, message)| {
                let handle = handles.get(id.parse::<usize>().ok()?)?;
                Some((
                    handle.clone(),
                    code.to_string(),
                    message.unwrap_or_default().to_string(),
                ))
            })
            .collect(),
    }
}
