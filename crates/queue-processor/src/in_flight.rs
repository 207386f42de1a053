//! The messages this task holds (received and not yet deleted or handed back), with their visibility deadlines.
//!
//! The heartbeat extends what is about to become visible again; shutdown hands back whatever is still held; and
//! whether any held message could not finish within the drain grace drives ECS task scale-in protection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// One held message.
#[derive(Debug, Clone)]
struct Held {
    receipt_handle: String,
    visible_at: Instant,
    /// It could not finish within the drain grace after SIGTERM: the task must not be picked for scale-in.
    needs_protection: bool,
}

/// The held messages, keyed by SQS message id.
#[derive(Debug)]
pub struct InFlight {
    held: Mutex<HashMap<String, Held>>,
    needs_protection: watch::Sender<bool>,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight {
            held: Mutex::new(HashMap::new()),
            needs_protection: watch::channel(false).0,
        }
    }
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts/removes): keep going.
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn publish_protection(&self, held: &HashMap<String, Held>) {
        let needed = held.values().any(|h| h.needs_protection);
        self.needs_protection
            .send_if_modified(|b| std::mem::replace(b, needed) != needed);
    }

    /// Holds a message received now, visible again after `visibility`; `needs_protection` when it could not
    /// finish within the drain grace.
    pub fn hold(
        &self,
        message_id: &str,
        receipt_handle: &str,
        visibility: Duration,
        needs_protection: bool,
    ) {
        let mut held = self.lock();
        held.insert(
            message_id.to_string(),
            Held {
                receipt_handle: receipt_handle.to_string(),
                visible_at: Instant::now() + visibility,
                needs_protection,
            },
        );
        self.publish_protection(&held);
    }

    /// Stops holding a message; returns its receipt handle.
    pub fn release(&self, message_id: &str) -> Option<String> {
        let mut held = self.lock();
        let handle = held.remove(message_id).map(|h| h.receipt_handle);
        self.publish_protection(&held);
        handle
    }

    /// Handles of the messages that become visible within `margin`.
    pub fn due_for_extension(&self, margin: Duration) -> Vec<(String, String)> {
        let limit = Instant::now() + margin;
        self.lock()
            .iter()
            .filter(|(_, h)| h.visible_at <= limit)
            .map(|(id, h)| (id.clone(), h.receipt_handle.clone()))
            .collect()
    }

    /// Records that `message_id`'s visibility was extended to `visibility` from `at`.
    pub fn extended(&self, message_id: &str, at: Instant, visibility: Duration) {
        if let Some(h) = self.lock().get_mut(message_id) {
            h.visible_at = at + visibility;
        }
    }

    /// Stops holding everything; returns the receipt handles.
    pub fn release_all(&self) -> Vec<String> {
        let mut held = self.lock();
        let handles = held.drain().map(|(_, h)| h.receipt_handle).collect();
        self.publish_protection(&held);
        handles
    }

    /// Marks a held message as needing protection: its work, of unknown length, has outlasted the drain grace.
    pub fn protect(&self, message_id: &str) {
        let mut held = self.lock();
        if let Some(h) = held.get_mut(message_id) {
            h.needs_protection = true;
        }
        self.publish_protection(&held);
    }

    /// Number of held messages.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Follows whether a held message needs scale-in protection.
    pub fn needs_protection(&self) -> watch::Receiver<bool> {
        self.needs_protection.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tracks_deadlines_and_the_need_for_protection() {
        let f = InFlight::default();
        let busy = f.needs_protection();
        assert!(!*busy.borrow());
        // A message that fits in the drain grace needs no protection, however many are held.
        f.hold("s", "hs", Duration::from_secs(30), false);
        assert!(!*busy.borrow());
        assert_eq!(f.release("s"), Some("hs".into()));
        f.hold("a", "ha", Duration::from_secs(30), true);
        f.hold("b", "hb", Duration::from_secs(5), true);
        assert!(*busy.borrow());
        assert_eq!(
            f.due_for_extension(Duration::from_secs(10)),
            vec![("b".into(), "hb".into())]
        );
        f.extended("b", Instant::now(), Duration::from_secs(30));
        assert!(f.due_for_extension(Duration::from_secs(10)).is_empty());
        tokio::time::advance(Duration::from_secs(25)).await;
        assert_eq!(f.due_for_extension(Duration::from_secs(10)).len(), 2);
        assert_eq!(f.release("a"), Some("ha".into()));
        assert_eq!(f.release("a"), None);
        assert!(*busy.borrow());
        f.hold("c", "hc", Duration::from_secs(30), false);
        f.protect("c");
        f.protect("gone");
        assert_eq!(f.release("b"), Some("hb".into()));
        assert!(*busy.borrow(), "c outlasted the grace");
        assert_eq!(f.release_all(), vec!["hc".to_string()]);
        assert!(!*busy.borrow());
        assert!(f.is_empty());
    }
}
