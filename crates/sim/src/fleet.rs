//! The ECS service's tasks: launched within Fargate's launch quotas ([`crate::launch`]), ready `task_start_secs` after launch,
//! billed from launch to stop; stopped above the desired count: tasks still starting first, then idle ones, then
//! busy ones. This project's workers (`graceful`) drain a busy task picked for scale-in (it takes nothing new and
//! stops once its messages are done) and are never picked while running a message longer than the drain grace
//! (scale-in protection); other workers lose what they were running.

use crate::launch::{LaunchLimiter, LaunchQuota};

/// One task.
#[derive(Debug, Clone)]
pub struct Task {
    /// Launch (billing starts), ms.
    pub launched_ms: u64,
    /// Able to receive.
    pub ready: bool,
    /// Stopped, ms.
    pub stopped_ms: Option<u64>,
    /// (message, attempt) being processed.
    pub running: Vec<(usize, u32)>,
    /// Those of them longer than the drain grace: the task is protected from scale-in while any runs.
    pub protected: Vec<(usize, u32)>,
    /// Picked for scale-in while busy: receives nothing new, stops when its messages are done.
    pub draining: bool,
}

impl Task {
    /// Not stopped.
    pub fn alive(&self) -> bool {
        self.stopped_ms.is_none()
    }
}

/// The tasks.
#[derive(Debug, Clone)]
pub struct Fleet {
    tasks: Vec<Task>,
    /// Ids of the tasks alive, in launch order (the stopped ones are never looked at again).
    alive_ids: Vec<usize>,
    ready_count: u32,
    busy: u32,
    concurrency: usize,
    launches: LaunchLimiter,
    start_ms: u64,
}

impl Fleet {
    /// `initial` tasks already running at 0; slots per task; the model's start latency and launch quota.
    pub fn new(initial: u32, concurrency: u32, task_start_secs: u64, quota: LaunchQuota) -> Self {
        let tasks = (0..initial)
            .map(|_| Task {
                launched_ms: 0,
                ready: true,
                stopped_ms: None,
                running: Vec::new(),
                protected: Vec::new(),
                draining: false,
            })
            .collect();
        Fleet {
            alive_ids: (0..initial as usize).collect(),
            ready_count: initial,
            busy: 0,
            tasks,
            concurrency: concurrency.max(1) as usize,
            launches: LaunchLimiter::new(quota),
            start_ms: task_start_secs * 1000,
        }
    }

    /// Every task ever launched.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// Tasks alive (starting or running).
    pub fn alive(&self) -> u32 {
        self.alive_ids.len() as u32
    }

    /// Tasks running (ready).
    pub fn running(&self) -> u32 {
        self.ready_count
    }

    /// Busy message slots.
    pub fn busy_slots(&self) -> u32 {
        self.busy
    }

    /// Launches tasks until `desired` are alive; returns (task, ready at ms) for each launched.
    pub fn grow_to(&mut self, desired: u32, now_ms: u64) -> Vec<(usize, u64)> {
        let mut launched = Vec::new();
        while self.alive() < desired {
            let at = self.launches.admit(now_ms);
            let task = self.tasks.len();
            self.tasks.push(Task {
                launched_ms: at,
                ready: false,
                stopped_ms: None,
                running: Vec::new(),
                protected: Vec::new(),
                draining: false,
            });
            self.alive_ids.push(task);
            launched.push((task, at + self.start_ms));
        }
        launched
    }

    /// A task became ready.
    pub fn ready(&mut self, task: usize) {
        let t = &mut self.tasks[task];
        if t.alive() && !t.ready {
            t.ready = true;
            self.ready_count += 1;
        }
    }

    /// A task with a free slot, if any.
    pub fn free_slot(&self) -> Option<usize> {
        self.alive_ids.iter().copied().find(|&i| {
            let t = &self.tasks[i];
            t.ready && t.running.len() < self.concurrency
        })
    }

    /// Starts `(msg, attempt)` on `task`; `protected` when it outlasts the drain grace.
    pub fn start(&mut self, task: usize, msg: usize, attempt: u32, protected: bool) {
        let t = &mut self.tasks[task];
        t.running.push((msg, attempt));
        if protected {
            t.protected.push((msg, attempt));
        }
        self.busy += 1;
    }

    /// A processing on `task` ended at `now_ms`; false when the task was stopped meanwhile (the completion is
    /// lost). A draining task stops with its last message.
    pub fn finish(&mut self, task: usize, msg: usize, attempt: u32, now_ms: u64) -> bool {
        let t = &mut self.tasks[task];
        if !t.alive() {
            return false;
        }
        let before = t.running.len();
        t.running.retain(|&(m, a)| (m, a) != (msg, attempt));
        t.protected.retain(|&(m, a)| (m, a) != (msg, attempt));
        self.busy -= (before - t.running.len()) as u32;
        if t.draining && t.running.is_empty() {
            t.stopped_ms = Some(now_ms);
            self.ready_count -= 1;
        }
        true
    }

    /// Stops tasks above `desired`: starting ones first, then idle ones, then busy ones (`graceful`: drained, and
    /// never one running a protected message). Returns the (message, attempt) pairs cut short.
    pub fn shrink_to(&mut self, desired: u32, now_ms: u64, graceful: bool) -> Vec<(usize, u32)> {
        let mut lost = Vec::new();
        while self.alive() > desired {
            let tasks = &self.tasks;
            let position = self
                .alive_ids
                .iter()
                .rposition(|&i| !tasks[i].ready)
                .or_else(|| {
                    self.alive_ids
                        .iter()
                        .rposition(|&i| tasks[i].running.is_empty())
                })
                .or_else(|| {
                    if graceful {
                        self.alive_ids
                            .iter()
                            .rposition(|&i| tasks[i].protected.is_empty())
                    } else {
                        self.alive_ids.len().checked_sub(1)
                    }
                });
            let Some(position) = position else { break };
            let victim = self.alive_ids.remove(position);
            if graceful && !self.tasks[victim].running.is_empty() {
                // SIGTERM: the worker finishes what it runs (within the grace), takes nothing new, then exits.
                self.tasks[victim].draining = true;
                continue;
            }
            let t = &mut self.tasks[victim];
            // A task still waiting for its launch slot never launched: it bills nothing.
            t.stopped_ms = Some(now_ms.max(t.launched_ms));
            if t.ready {
                self.ready_count -= 1;
            }
            self.busy -= t.running.len() as u32;
            lost.append(&mut t.running);
        }
        lost
    }

    /// Task-milliseconds billed up to `end_ms`.
    pub fn billed_ms(&self, end_ms: u64) -> u64 {
        self.billed_between(0, end_ms)
    }

    /// Task-milliseconds billed between `from_ms` and `end_ms`.
    pub fn billed_between(&self, from_ms: u64, end_ms: u64) -> u64 {
        self.tasks
            .iter()
            .map(|t| {
                let stop = t.stopped_ms.unwrap_or(end_ms).min(end_ms);
                stop.saturating_sub(t.launched_ms.max(from_ms))
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_graceful_task_drains_and_a_protected_one_is_never_picked() {
        let mut f = Fleet::new(3, 1, 30, LaunchQuota::UNLIMITED);
        f.start(0, 10, 1, false);
        f.start(1, 11, 1, true);
        f.start(2, 12, 1, false);
        // Down to one: both unprotected busy tasks drain (the newest first), the protected one stays.
        assert!(f.shrink_to(1, 1000, true).is_empty(), "nothing cut short");
        assert_eq!(f.alive(), 1);
        assert!(f.tasks()[0].draining && f.tasks()[2].draining && !f.tasks()[1].draining);
        // A draining task takes nothing new, is still running (billed) and stops with its last message.
        assert_eq!(f.free_slot(), None);
        assert_eq!(f.running(), 3);
        assert!(f.finish(2, 12, 1, 5000));
        assert_eq!((f.tasks()[2].stopped_ms, f.running()), (Some(5000), 2));
        // Down to zero: the protected task is not picked while its long message runs.
        assert!(f.shrink_to(0, 6000, true).is_empty());
        assert_eq!(f.alive(), 1);
        assert!(f.finish(1, 11, 1, 7000));
        assert!(f.shrink_to(0, 7000, true).is_empty());
        assert_eq!(f.alive(), 0);
        // Workers that are not graceful lose what they run.
        let mut g = Fleet::new(1, 1, 30, LaunchQuota::UNLIMITED);
        g.start(0, 1, 1, false);
        assert_eq!(g.shrink_to(0, 100, false), vec![(1, 1)]);
    }

    #[test]
    fn launches_wait_for_the_launch_quota() {
        // A bucket of 2 refilled at 1 a second: five tasks asked at 0 are ready at 60, 60, 61, 62, 63 s.
        let quota = LaunchQuota {
            burst: 2,
            per_sec: 1.0,
            per_service_per_minute: 0,
        };
        let mut f = Fleet::new(0, 1, 60, quota);
        let ready: Vec<u64> = f.grow_to(5, 0).into_iter().map(|(_, at)| at).collect();
        assert_eq!(ready, vec![60_000, 60_000, 61_000, 62_000, 63_000]);
        let mut unlimited = Fleet::new(0, 1, 30, LaunchQuota::UNLIMITED);
        assert!(
            unlimited
                .grow_to(5, 1000)
                .iter()
                .all(|(_, at)| *at == 31_000)
        );
    }

    #[test]
    fn a_task_stopped_before_its_launch_slot_bills_nothing() {
        let one_a_minute = LaunchQuota {
            burst: 0,
            per_sec: 0.0,
            per_service_per_minute: 1,
        };
        let mut f = Fleet::new(0, 1, 60, one_a_minute);
        f.grow_to(3, 0); // launches at 0, 60 s, 120 s
        f.shrink_to(1, 10_000, true);
        assert_eq!(f.billed_ms(600_000), 600_000, "only the first task ran");
    }
}
