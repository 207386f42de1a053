//! Generates the messages and sends them: SendMessageBatch calls of 10, several at once, entries the queue refuses
//! for a transient reason retried, and only accepted messages counted as sent. Ids are random UUIDs (the
//! blueprint's 16-bit random ids collided and FIFO deduplication silently dropped about a third of them, bug 11).

use std::time::Duration;

use bpi_aws::backoff::Backoff;
use bpi_aws::sqs::{Outgoing, Queue};
use bpi_core::config::ProducerConfig;
use bpi_core::{DurationDistribution, Message, MessageId};
use futures::stream::{self, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::request::ProduceRequest;

/// SendMessageBatch calls in flight at once.
const PARALLEL_BATCHES: usize = 8;
/// Rounds for entries a batch call refused for a transient reason.
const ENTRY_ROUNDS: u32 = 4;

/// What an invocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProduceReport {
    /// Messages the queue accepted.
    pub sent: u32,
    /// Messages the queue did not accept after retries.
    pub failed: u32,
}

/// The producer: a resolved queue and the configured defaults.
#[derive(Debug, Clone)]
pub struct Producer {
    queue: Queue,
    config: ProducerConfig,
}

/// Draws the bodies of `count` messages with durations from `durations`, seeded by `seed`.
pub fn generate(count: u32, durations: &DurationDistribution, seed: u64) -> Vec<Message> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| Message {
            id: MessageId::Text(uuid::Uuid::new_v4().to_string()),
            duration_secs: durations.sample(rng.random(), rng.random()),
        })
        .collect()
}

impl Producer {
    /// A producer sending to `queue` with `config`'s defaults.
    pub fn new(queue: Queue, config: ProducerConfig) -> Self {
        Producer { queue, config }
    }

    /// Sends what `request` asks for (defaults from the configuration).
    pub async fn produce(&self, request: &ProduceRequest) -> ProduceReport {
        let count = request.count.unwrap_or(self.config.message_count);
        let durations = request.duration.unwrap_or(self.config.durations);
        let seed = request
            .seed
            .or(self.config.seed)
            .unwrap_or_else(rand::random);
        let fifo = self.queue.is_fifo();
        let outgoing: Vec<Outgoing> = generate(count, &durations, seed)
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let id = m.id.to_string();
                Outgoing {
                    body: m.to_body(),
                    group_id: fifo.then(|| self.config.group_strategy.group_id(i as u32, &id)),
                    deduplication_id: fifo.then_some(id),
                }
            })
            .collect();
        let failed: usize = stream::iter(outgoing.chunks(10))
            .map(|chunk| self.send_with_retries(chunk.to_vec()))
            .buffer_unordered(PARALLEL_BATCHES)
            .fold(0, |acc, failed| async move { acc + failed })
            .await;
        let report = ProduceReport {
            sent: count - failed as u32,
            failed: failed as u32,
        };
        tracing::info!(
            queue = self.queue.name(),
            sent = report.sent,
            failed = report.failed,
            mean_duration_secs = durations.mean_secs(),
            seed,
            "produced"
        );
        report
    }

    /// Sends one batch; entries refused for a transient reason inside a successful answer are retried, paced by the
    /// shared backoff (with jitter). A failed call has had the SDK's retries and is not repeated. Returns how many
    /// were never accepted.
    async fn send_with_retries(&self, mut pending: Vec<Outgoing>) -> usize {
        let mut permanent = 0;
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        for round in 1..=ENTRY_ROUNDS {
            match self.queue.send_batch(&pending).await {
                Ok(failures) if failures.is_empty() => return permanent,
                Ok(failures) => {
                    let mut retry = Vec::new();
                    for f in failures {
                        if f.sender_fault {
                            tracing::error!(
                                code = f.code,
                                "message refused by the queue; not retried"
                            );
                            permanent += 1;
                        } else if let Some(m) = pending.get(f.index) {
                            retry.push(m.clone());
                        }
                    }
                    if retry.is_empty() {
                        return permanent;
                    }
                    tracing::warn!(
                        entries = retry.len(),
                        round,
                        "entries refused for a transient reason; retrying"
                    );
                    pending = retry;
                }
                Err(e) => {
                    tracing::error!(error = %e, entries = pending.len(), "send failed after the SDK's retries");
                    return permanent + pending.len();
                }
            }
            tokio::time::sleep(backoff.next_delay()).await;
        }
        tracing::error!(
            entries = pending.len(),
            "entries kept being refused; giving up on these messages"
        );
        permanent + pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_durations_but_fresh_ids() {
        let d = DurationDistribution::LogNormal {
            mean_secs: 5.0,
            sigma: 0.5,
        };
        let (a, b) = (generate(50, &d, 7), generate(50, &d, 7));
        let durations = |v: &[Message]| v.iter().map(|m| m.duration_secs).collect::<Vec<_>>();
        assert_eq!(durations(&a), durations(&b));
        assert_ne!(
            a[0].id, b[0].id,
            "ids are unique across invocations whatever the seed"
        );
        let mut ids: Vec<_> = a.iter().chain(&b).map(|m| m.id.to_string()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 100);
    }

    #[test]
    fn seeded_sample_follows_the_distribution() {
        let d = DurationDistribution::Uniform {
            min_secs: 2.0,
            max_secs: 4.0,
        };
        let msgs = generate(5_000, &d, 1);
        let mean = msgs.iter().map(|m| m.duration_secs).sum::<f64>() / 5_000.0;
        assert!((mean - 3.0).abs() < 0.05, "{mean}");
        assert!(msgs.iter().all(|m| (2.0..=4.0).contains(&m.duration_secs)));
    }
}
