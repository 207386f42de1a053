//! Which received message may start next: in the order received on a standard queue, and on a FIFO queue one
//! message of a group at a time, in the group's order.
//!
//! Why it exists: SQS fills a FIFO receive with as many messages of one group as it can, in order, and hands out no
//! other message of that group while any is in flight. Inside a received batch, keeping the order is the consumer's
//! job (SQS developer guide, "FIFO queue delivery logic"; the same bug reported in Celery, MassTransit, Spring Cloud
//! AWS, Shoryuken, sqs-consumer: `../shared/reference/sqs-fifo.md`, §2). A worker that runs `CONCURRENCY` messages
//! at once would run two of one group side by side, and the second could finish first. Here a group's next message
//! starts only when the one before it is done and deleted; groups run in parallel up to the concurrency; when a
//! message fails, the group's later messages held here are given back to the queue rather than run ahead of its
//! retry (Spring Cloud AWS and Powertools' `skip_group_on_error` do the same).
//!
//! A standard queue with group ids (SQS's fair queues) keeps no order: its messages are dispatched as received.

use std::collections::{HashSet, VecDeque};

use crate::work::Delivery;

/// A received message waiting to start, with the handle that deletes it or gives it back.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The message as the work sees it.
    pub delivery: Delivery,
    /// Its receipt handle.
    pub receipt_handle: String,
}

impl Pending {
    /// Its FIFO group (None on a standard queue).
    pub fn group(&self) -> Option<&str> {
        self.delivery.group_id.as_deref()
    }
}

/// The messages received and not started, and on a FIFO queue the groups that have one running.
#[derive(Debug, Default)]
pub struct Dispatch {
    /// One message of a group at a time, in order (a FIFO queue).
    ordered: bool,
    waiting: VecDeque<Pending>,
    /// Groups with a message running (or being deleted).
    busy: HashSet<String>,
}

impl Dispatch {
    /// A dispatch for a FIFO queue (`ordered`) or a standard one.
    pub fn new(ordered: bool) -> Self {
        Dispatch {
            ordered,
            ..Dispatch::default()
        }
    }

    /// Whether it keeps the groups' order.
    pub fn ordered(&self) -> bool {
        self.ordered
    }

    /// A received message, after those received before it.
    pub fn push(&mut self, pending: Pending) {
        self.waiting.push_back(pending);
    }

    /// The message to start now: the oldest whose group has nothing running (the oldest of all on a standard
    /// queue). Its group is busy until [`Dispatch::done`] or [`Dispatch::failed`].
    pub fn start_next(&mut self) -> Option<Pending> {
        let i = self.waiting.iter().position(|p| self.may_start(p))?;
        let pending = self.waiting.remove(i)?;
        if self.ordered
            && let Some(group) = pending.group()
        {
            self.busy.insert(group.to_string());
        }
        Some(pending)
    }

    /// Whether some waiting message may start now.
    pub fn has_startable(&self) -> bool {
        self.waiting.iter().any(|p| self.may_start(p))
    }

    fn may_start(&self, pending: &Pending) -> bool {
        !self.ordered || pending.group().is_none_or(|g| !self.busy.contains(g))
    }

    /// A message of `group` is done and deleted: the group's next may start.
    pub fn done(&mut self, group: Option<&str>) {
        if let Some(g) = group {
            self.busy.remove(g);
        }
    }

    /// A message of `group` failed, or could not be deleted: it comes back to the queue, so on a FIFO queue the
    /// group's later messages held here must not run before it. They are removed and returned, to be given back.
    pub fn failed(&mut self, group: Option<&str>) -> Vec<Pending> {
        self.done(group);
        match group {
            Some(g) if self.ordered => {
                let (later, keep): (VecDeque<Pending>, VecDeque<Pending>) =
                    self.waiting.drain(..).partition(|p| p.group() == Some(g));
                self.waiting = keep;
                later.into()
            }
            _ => Vec::new(),
        }
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: &str, group: Option<&str>) -> Pending {
        Pending {
            delivery: Delivery {
                message_id: id.to_string(),
                body: String::new(),
                receive_count: 1,
                sent_at_ms: None,
                first_received_at_ms: None,
                group_id: group.map(str::to_string),
                sequence_number: None,
                message: None,
            },
            receipt_handle: format!("h-{id}"),
        }
    }

    fn ids(d: &mut Dispatch) -> Vec<String> {
        std::iter::from_fn(|| d.start_next())
            .map(|p| p.delivery.message_id)
            .collect()
    }

    #[test]
    fn a_fifo_group_runs_one_message_at_a_time_in_order_and_groups_in_parallel() {
        let mut d = Dispatch::new(true);
        // One batch as SQS fills it: three of group a in order, then two of b.
        for (id, g) in [
            ("a1", "a"),
            ("a2", "a"),
            ("a3", "a"),
            ("b1", "b"),
            ("b2", "b"),
        ] {
            d.push(pending(id, Some(g)));
        }
        assert_eq!(ids(&mut d), ["a1", "b1"], "one of each group");
        assert!(!d.has_startable());
        d.done(Some("a"));
        assert_eq!(ids(&mut d), ["a2"], "a's next, b still running");
        d.done(Some("b"));
        d.done(Some("a"));
        assert_eq!(ids(&mut d), ["a3", "b2"]);
        assert!(d.is_empty());
    }

    #[test]
    fn a_failure_gives_back_the_groups_later_messages_and_no_other() {
        let mut d = Dispatch::new(true);
        for (id, g) in [
            ("a1", "a"),
            ("a2", "a"),
            ("b1", "b"),
            ("a3", "a"),
            ("b2", "b"),
        ] {
            d.push(pending(id, Some(g)));
        }
        assert_eq!(ids(&mut d), ["a1", "b1"]);
        let back: Vec<String> = d
            .failed(Some("a"))
            .into_iter()
            .map(|p| p.delivery.message_id)
            .collect();
        assert_eq!(back, ["a2", "a3"], "in their order");
        assert!(!d.has_startable(), "b2 waits for b1");
        d.done(Some("b"));
        assert_eq!(ids(&mut d), ["b2"]);
    }

    #[test]
    fn a_standard_queue_dispatches_as_received_whatever_the_groups() {
        // A fair queue's tenants: group ids, no order to keep.
        let mut d = Dispatch::new(false);
        for (id, g) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
            d.push(pending(id, Some(g)));
        }
        assert_eq!(ids(&mut d), ["a1", "a2", "b1"]);
        d.push(pending("a3", Some("a")));
        assert!(d.failed(Some("a")).is_empty(), "nothing given back");
        assert_eq!(ids(&mut d), ["a3"]);
    }
}
