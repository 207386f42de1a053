//! The SQS queue: every message that arrived, the visible ones in arrival order, and what is in flight.
//!
//! A received message is invisible until deleted or, without a heartbeat, until its visibility timeout runs out,
//! when it is visible again (a stale timeout of an earlier receive is ignored through the receive's attempt number).

use std::collections::VecDeque;

/// One message's life.
#[derive(Debug, Clone, Default)]
pub struct Msg {
    /// Arrival, ms.
    pub arrival_ms: u64,
    /// Processing time, ms.
    pub work_ms: u64,
    /// When its processing first started, ms.
    pub first_start_ms: Option<u64>,
    /// Processed and deleted.
    pub done: bool,
    /// Increments on every receive.
    pub attempt: u32,
    /// Times its processing completed (more than one: processed twice).
    pub completions: u32,
    queue_gen: u32,
    in_queue: bool,
}

/// The queue.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    msgs: Vec<Msg>,
    order: VecDeque<(usize, u32)>,
    visible: u64,
    done: u64,
}

impl Queue {
    /// An empty queue with room for `n` messages.
    pub fn with_capacity(n: usize) -> Self {
        Queue {
            msgs: Vec::with_capacity(n),
            ..Queue::default()
        }
    }

    /// A new message arrives; returns its id.
    pub fn arrive(&mut self, arrival_ms: u64, work_ms: u64) -> usize {
        let id = self.msgs.len();
        self.msgs.push(Msg {
            arrival_ms,
            work_ms,
            ..Msg::default()
        });
        self.make_visible(id);
        id
    }

    /// Makes `id` visible again (if it is not done and not already visible).
    pub fn make_visible(&mut self, id: usize) {
        let m = &mut self.msgs[id];
        if m.done || m.in_queue {
            return;
        }
        m.in_queue = true;
        m.queue_gen += 1;
        self.order.push_back((id, m.queue_gen));
        self.visible += 1;
    }

    /// A visibility timeout of receive `attempt` ran out.
    pub fn timeout(&mut self, id: usize, attempt: u32) {
        if self.msgs[id].attempt == attempt && !self.msgs[id].done {
            self.make_visible(id);
        }
    }

    /// Receives the oldest visible message at `now_ms`: (id, attempt, work ms).
    pub fn receive(&mut self, now_ms: u64) -> Option<(usize, u32, u64)> {
        while let Some((id, queue_gen)) = self.order.pop_front() {
            let m = &mut self.msgs[id];
            if !m.in_queue || m.queue_gen != queue_gen {
                continue;
            }
            m.in_queue = false;
            self.visible -= 1;
            m.attempt += 1;
            m.first_start_ms.get_or_insert(now_ms);
            return Some((id, m.attempt, m.work_ms));
        }
        None
    }

    /// A processing of `id` completed: the message is deleted (a late duplicate only counts).
    pub fn complete(&mut self, id: usize) {
        let m = &mut self.msgs[id];
        m.completions += 1;
        if !m.done {
            m.done = true;
            self.done += 1;
            if m.in_queue {
                m.in_queue = false;
                self.visible -= 1;
            }
        }
    }

    /// Visible messages.
    pub fn visible(&self) -> u64 {
        self.visible
    }

    /// Received and not yet deleted.
    pub fn in_flight(&self) -> u64 {
        (self.msgs.len() as u64).saturating_sub(self.done + self.visible)
    }

    /// Every message.
    pub fn messages(&self) -> &[Msg] {
        &self.msgs
    }

    /// A message's processing time, ms.
    pub fn work_ms(&self, id: usize) -> u64 {
        self.msgs[id].work_ms
    }
}
