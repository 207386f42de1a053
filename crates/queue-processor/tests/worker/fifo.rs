//! A FIFO queue: the order within every message group, whatever the concurrency, through poison messages, a drain
//! on SIGTERM and a second worker taking over.
//!
//! moto keeps SQS's group lock between receive calls (no message of a group with one in flight is returned), moves a
//! message to the DLQ on the receive after its maxReceiveCount, and fills a receive in the queue's order across
//! groups, where AWS fills it with as many messages of one group as it can first (SQS developer guide, "FIFO
//! queue delivery logic"). The worker's dispatch does not rely on either filling: its unit tests
//! (`queue_processor::dispatch`) cover a batch of one group's messages, the shape AWS returns.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bpi_aws::sqs::Outgoing;
use bpi_core::{Message, MessageId};
use queue_processor::{Delivery, Work, WorkError};

use crate::support::*;

const GROUPS: u64 = 20;
const PER_GROUP: u64 = 50;
/// Groups whose message at this position is not a valid body.
const POISONED: [(u64, u64); 2] = [(3, 10), (7, 25)];

/// What every worker of the test saw, shared: the messages running and done by group, and every breach of order.
#[derive(Default)]
struct Ledger {
    running: HashMap<String, u64>,
    /// The highest message done in each group.
    done_up_to: HashMap<String, u64>,
    processed: HashSet<u64>,
    runs: u64,
    breaches: Vec<String>,
}

/// Work that checks, at each start, that no other message of its group runs and no later one is done.
#[derive(Clone, Default)]
struct OrderWork {
    ledger: Arc<Mutex<Ledger>>,
}

impl Work for OrderWork {
    async fn process(&self, delivery: &Delivery) -> Result<(), WorkError> {
        let message = blueprint(delivery);
        let id: u64 = message.id.to_string().parse().expect("numbered");
        let n = id % 1000;
        let group = delivery
            .group_id
            .clone()
            .expect("a FIFO message has its group");
        {
            let mut l = self.ledger.lock().expect("lock");
            if let Some(other) = l.running.get(&group) {
                let breach = format!("{group}: {n} started while {other} runs");
                l.breaches.push(breach);
            }
            if let Some(&later) = l.done_up_to.get(&group).filter(|&&m| m > n) {
                let breach = format!("{group}: {n} started after {later} was done");
                l.breaches.push(breach);
            }
            l.running.insert(group.clone(), n);
        }
        tokio::time::sleep(message.duration()).await;
        let mut l = self.ledger.lock().expect("lock");
        l.running.remove(&group);
        let up_to = l.done_up_to.entry(group).or_insert(n);
        *up_to = (*up_to).max(n);
        l.processed.insert(id);
        l.runs += 1;
        Ok(())
    }
}

/// Messages the sender lets wait at most: moto scans its whole queue several times for each message sent and each
/// receive (its `Queue.messages`), so a thousand waiting FIFO messages took it three minutes to accept. Sending
/// while the workers run keeps that short, and is how a queue is fed anyway.
const MOST_WAITING: u64 = 150;

/// Sends `groups` × `per_group` messages interleaved (group 0's first, group 1's first, ...), ten a call, in order
/// within each group, numbered `group × 1000 + position`, those at the `poisoned` positions as `poison`'s body;
/// pauses while more than [`MOST_WAITING`] wait.
pub(crate) async fn send_groups(
    queue: bpi_aws::sqs::Queue,
    groups: u64,
    per_group: u64,
    poisoned: &[(u64, u64)],
    poison: fn(u64) -> String,
) {
    let mut entries = Vec::new();
    for n in 0..per_group {
        for g in 0..groups {
            let body = if poisoned.contains(&(g, n)) {
                poison(g * 1000 + n)
            } else {
                Message {
                    id: MessageId::from(g * 1000 + n),
                    duration_secs: 0.02,
                }
                .to_body()
            };
            entries.push(Outgoing {
                body,
                group_id: Some(format!("g{g}")),
                deduplication_id: Some(format!("{g}-{n}")),
            });
        }
    }
    // A group's messages must be sent in order: one sender, batch after batch.
    for chunk in entries.chunks(10) {
        while depth(&queue).await.visible > MOST_WAITING {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        send_outgoing(&queue, chunk).await;
    }
}

/// A message of a group starting or ending, as an application saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// (group, position) started.
    Start(String, u64),
    /// (group, position) ended.
    End(String, u64),
}

/// The breaches of order in `events` (in the order they happened): a message started while another of its group ran,
/// or after a later one of its group was done (a message run again after a drain is no breach).
pub(crate) fn order_breaches(events: &[Event]) -> Vec<String> {
    let mut running: HashMap<&str, u64> = HashMap::new();
    let mut done_up_to: HashMap<&str, u64> = HashMap::new();
    let mut breaches = Vec::new();
    for e in events {
        match e {
            Event::Start(g, n) => {
                if let Some(other) = running.get(g.as_str()) {
                    breaches.push(format!("{g}: {n} started while {other} runs"));
                }
                if let Some(later) = done_up_to.get(g.as_str()).filter(|&&m| m > *n) {
                    breaches.push(format!("{g}: {n} started after {later} was done"));
                }
                running.insert(g, *n);
            }
            Event::End(g, n) => {
                running.remove(g.as_str());
                let up_to = done_up_to.entry(g).or_insert(*n);
                *up_to = (*up_to).max(*n);
            }
        }
    }
    breaches
}

#[test]
fn the_order_check_finds_overlaps_and_messages_run_behind_a_later_one() {
    let s = |g: &str, n| Event::Start(g.to_string(), n);
    let e = |g: &str, n| Event::End(g.to_string(), n);
    assert!(
        order_breaches(&[
            s("a", 1),
            s("b", 1),
            e("a", 1),
            s("a", 2),
            e("a", 2),
            s("a", 2),
            e("a", 2)
        ])
        .is_empty()
    );
    assert_eq!(
        order_breaches(&[s("a", 1), s("a", 2)]).len(),
        1,
        "side by side"
    );
    assert_eq!(
        order_breaches(&[s("a", 2), e("a", 2), s("a", 1)]).len(),
        1,
        "behind a later one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_eight_keeps_every_groups_order_through_poison_a_drain_and_a_takeover() {
    let clients = clients().await;
    let name = format!("{}.fifo", bpi_testkit::unique_name("fifo"));
    let q = create_queue_named(&clients.sqs, &name, 4, 2).await;
    let sender = tokio::spawn(send_groups(
        q.queue.clone(),
        GROUPS,
        PER_GROUP,
        &POISONED,
        |_| "{not a message".to_string(),
    ));
    let work = OrderWork::default();
    let settings = [("TASK_CONCURRENCY", "8"), ("PREFETCH_SECS", "2")];

    let first = RunningWorker::start(
        &clients,
        &q.queue,
        config(&q.queue, &settings),
        work.clone(),
    );
    wait_until(Duration::from_secs(180), "300 messages processed", || {
        let done = work.ledger.lock().expect("lock").processed.len();
        async move { done >= 300 }
    })
    .await;
    // A second worker takes over while the first drains on SIGTERM.
    let second = RunningWorker::start(
        &clients,
        &q.queue,
        config(&q.queue, &settings),
        work.clone(),
    );
    let drained = first.stop().await;
    let valid = GROUPS * PER_GROUP - POISONED.len() as u64;
    wait_until(
        Duration::from_secs(300),
        "every valid message processed and the poison dead-lettered",
        || {
            let done = work.ledger.lock().expect("lock").processed.len() as u64;
            let dlq = q.dlq.clone();
            async move { done == valid && depth(&dlq).await.visible == POISONED.len() as u64 }
        },
    )
    .await;
    let second = second.stop().await;
    sender.await.expect("every message sent");
    let d = depth(&q.queue).await;
    assert_eq!((d.visible, d.in_flight), (0, 0), "the queue is empty");

    let l = work.ledger.lock().expect("lock");
    assert!(
        l.breaches.is_empty(),
        "{} breaches of order: {:?}",
        l.breaches.len(),
        &l.breaches[..l.breaches.len().min(10)]
    );
    assert_eq!(
        l.processed.len() as u64,
        valid,
        "each valid message at least once"
    );
    assert!(
        drained.counters.poison + second.counters.poison >= POISONED.len() as u64,
        "each poison message seen"
    );
    eprintln!(
        "fifo order: {} valid messages in {GROUPS} groups, {} runs ({} again after the drain), 0 breaches; \
         first worker processed {}, handed back {}; second processed {}",
        l.processed.len(),
        l.runs,
        l.runs - l.processed.len() as u64,
        drained.counters.processed,
        drained.counters.returned,
        second.counters.processed
    );
}
