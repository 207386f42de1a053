//! SQS: resolving a queue and reading its depth. The worker's receive/delete/visibility batches live here too.

use aws_sdk_sqs::types::QueueAttributeName;
use bpi_core::QueueDepth;
use bpi_core::config::QueueRef;

use crate::error::AwsError;

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
}
