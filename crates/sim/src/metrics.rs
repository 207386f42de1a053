//! CloudWatch as the simulated alarms see it: per-minute datapoints of the SQS depth gauges (one reading a minute
//! at the model's phase, some slipping into the next minute), Container Insights' RunningTaskCount and the
//! service's CPU (averages of 10-second samples), and the workers' `MsgProcessingDuration` statistic sets, each
//! visible only after its own publication delay.
//!
//! A sample taken at a minute boundary belongs to the minute it starts (a reading at 2:00 is in minute [2:00, 3:00)),
//! so a burst arriving on a boundary is never seen one minute early.

use bpi_core::StatisticSet;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::{AwsModel, GaugePhase};

/// Milliseconds in a minute.
pub const MINUTE_MS: u64 = 60_000;
/// The sampling cadence of the engine, ms.
pub const SAMPLE_MS: u64 = 10_000;
const SLOTS_PER_MINUTE: u64 = MINUTE_MS / SAMPLE_MS;

/// The live state at a sample.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Live {
    /// Visible messages.
    pub visible: u64,
    /// In-flight messages.
    pub in_flight: u64,
    /// Tasks running (ready to receive).
    pub running: u32,
    /// Tasks alive (starting or running).
    pub alive: u32,
    /// Message slots busy.
    pub busy_slots: u32,
    /// The desired count.
    pub desired: u32,
}

impl Live {
    /// Visible plus in flight.
    pub fn backlog(&self) -> u64 {
        self.visible + self.in_flight
    }
}

/// One gauge's readings within a minute.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Gauge {
    /// The largest reading.
    pub max: f64,
    /// The mean of the readings.
    pub mean: f64,
}

/// The SQS depth datapoint of a minute (absent when no reading landed in it).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SqsDatapoint {
    /// ApproximateNumberOfMessagesVisible.
    pub visible: Gauge,
    /// ApproximateNumberOfMessagesNotVisible.
    pub in_flight: Gauge,
}

impl SqsDatapoint {
    /// visible + in flight by the Maximum statistic.
    pub fn backlog_max(&self) -> f64 {
        self.visible.max + self.in_flight.max
    }
}

/// Everything CloudWatch holds for one minute.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MinuteData {
    /// SQS's gauges (None: no datapoint this minute).
    pub sqs: Option<SqsDatapoint>,
    /// When the SQS datapoint can first be seen, ms (later than usual after the queue woke from sleep).
    pub sqs_visible_at_ms: u64,
    /// RunningTaskCount, the Average of the minute.
    pub running: f64,
    /// Busy share of the running tasks' slots (the CPU utilization of CPU-bound work), 0-1.
    pub busy_share: f64,
    /// The workers' MsgProcessingDuration statistic set for the minute.
    pub durations: StatisticSet,
    /// The in-flight count averaged over the sampler's six readings of the minute (its `ecsInFlight`).
    pub sampled_in_flight_mean: f64,
    /// NumberOfMessagesSent: messages that arrived in the minute (delivered with the SQS datapoint).
    pub sent: f64,
}

impl MinuteData {
    /// The minute's activity for Little's law with SQS's in-flight gauge (its mean: the Average) and
    /// NumberOfMessagesDeleted (None: SQS published no datapoint). The simulated workers delete each message as it
    /// completes, so the deletions are the minute's completions.
    pub fn sqs_activity(&self) -> Option<bpi_core::ActivityMinute> {
        self.sqs.map(|sqs| bpi_core::ActivityMinute {
            in_flight_mean: sqs.in_flight.mean,
            deleted: self.durations.sample_count,
        })
    }

    /// The same with the sampler's six in-flight readings instead of SQS's gauge.
    pub fn sampled_activity(&self) -> bpi_core::ActivityMinute {
        bpi_core::ActivityMinute {
            in_flight_mean: self.sampled_in_flight_mean,
            deleted: self.durations.sample_count,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    n: u32,
    visible_sum: f64,
    visible_max: f64,
    in_flight_sum: f64,
    in_flight_max: f64,
}

impl Acc {
    fn add(&mut self, visible: f64, in_flight: f64) {
        self.n += 1;
        self.visible_sum += visible;
        self.in_flight_sum += in_flight;
        self.visible_max = self.visible_max.max(visible);
        self.in_flight_max = self.in_flight_max.max(in_flight);
    }

    fn datapoint(&self) -> Option<SqsDatapoint> {
        (self.n > 0).then(|| {
            let n = f64::from(self.n);
            SqsDatapoint {
                visible: Gauge {
                    max: self.visible_max,
                    mean: self.visible_sum / n,
                },
                in_flight: Gauge {
                    max: self.in_flight_max,
                    mean: self.in_flight_sum / n,
                },
            }
        })
    }
}

/// The metric store: closed minutes, oldest first, and the minute being filled.
#[derive(Debug, Clone)]
pub struct MetricStore {
    model: AwsModel,
    rng: StdRng,
    minutes: Vec<MinuteData>,
    gauge: Acc,
    slipped: Acc,
    running_sum: f64,
    in_flight_sum: f64,
    busy_share_sum: f64,
    samples: u32,
    durations: StatisticSet,
    sent: f64,
    /// Arrivals at the instant the next minute starts, before its sample closes this one.
    sent_next: f64,
    phase_slot: u64,
    idle_since_ms: Option<u64>,
    asleep: bool,
    woke_at_ms: Option<u64>,
}

impl MetricStore {
    /// An empty store for `model`; `seed` draws the random phase and the slips.
    pub fn new(model: AwsModel, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5157_5f47_4155_4745);
        let phase_slot = Self::draw_phase(&model, &mut rng);
        MetricStore {
            model,
            rng,
            minutes: Vec::new(),
            gauge: Acc::default(),
            slipped: Acc::default(),
            running_sum: 0.0,
            in_flight_sum: 0.0,
            busy_share_sum: 0.0,
            samples: 0,
            durations: StatisticSet::default(),
            sent: 0.0,
            sent_next: 0.0,
            phase_slot,
            idle_since_ms: Some(0),
            asleep: false,
            woke_at_ms: None,
        }
    }

    fn draw_phase(model: &AwsModel, rng: &mut StdRng) -> u64 {
        match model.gauge_phase {
            GaugePhase::Fixed { secs } => (u64::from(secs) / 10).min(SLOTS_PER_MINUTE - 1),
            GaugePhase::Random => rng.random_range(0..SLOTS_PER_MINUTE),
        }
    }

    /// Records a completed processing of `work_secs` (the workers' statistic set of the current minute).
    pub fn record_duration(&mut self, work_secs: f64) {
        self.durations.sum_secs += work_secs;
        self.durations.sample_count += 1.0;
    }

    /// Counts a message sent to the queue at `at_ms` (NumberOfMessagesSent of its minute).
    pub fn record_sent(&mut self, at_ms: u64) {
        if (at_ms / MINUTE_MS) as usize > self.minutes.len() {
            self.sent_next += 1.0;
        } else {
            self.sent += 1.0;
        }
    }

    /// Takes the sample at `now_ms` (a multiple of [`SAMPLE_MS`]): closes the previous minute first when `now_ms`
    /// starts a new one.
    pub fn sample(&mut self, now_ms: u64, live: &Live, concurrency: u32) {
        if now_ms > 0 && now_ms.is_multiple_of(MINUTE_MS) {
            self.close_minute(now_ms);
        }
        self.track_sleep(now_ms, live);
        let slot = (now_ms % MINUTE_MS) / SAMPLE_MS;
        let per_minute = u64::from(self.model.gauge_readings_per_minute.clamp(1, 6));
        let reading = if per_minute == 1 {
            slot == self.phase_slot
        } else {
            (slot + self.phase_slot).is_multiple_of(SLOTS_PER_MINUTE / per_minute)
        };
        if reading && !self.asleep {
            let slips = self.model.gauge_slip_share > 0.0
                && self.rng.random::<f64>() < self.model.gauge_slip_share;
            let acc = if slips {
                &mut self.slipped
            } else {
                &mut self.gauge
            };
            acc.add(live.visible as f64, live.in_flight as f64);
        }
        self.running_sum += f64::from(live.running);
        self.in_flight_sum += live.in_flight as f64;
        self.busy_share_sum += if live.running > 0 {
            f64::from(live.busy_slots) / f64::from(live.running * concurrency.max(1))
        } else {
            0.0
        };
        self.samples += 1;
    }

    /// SQS stops publishing for a queue idle `sqs_sleep_after_secs`; after it wakes, datapoints appear only
    /// `sqs_wake_delay_secs` later.
    fn track_sleep(&mut self, now_ms: u64, live: &Live) {
        if live.backlog() == 0 {
            let since = *self.idle_since_ms.get_or_insert(now_ms);
            if now_ms >= since + self.model.sqs_sleep_after_secs * 1000 {
                self.asleep = true;
            }
        } else {
            self.idle_since_ms = None;
            if self.asleep {
                self.asleep = false;
                self.woke_at_ms = Some(now_ms);
            }
        }
    }

    fn close_minute(&mut self, now_ms: u64) {
        let n = f64::from(self.samples.max(1));
        let sqs = self.gauge.datapoint();
        let usual = now_ms + self.model.sqs_delay_secs * 1000;
        let sqs_visible_at_ms = match self.woke_at_ms {
            Some(woke) => usual.max(woke + self.model.sqs_wake_delay_secs * 1000),
            None => usual,
        };
        self.minutes.push(MinuteData {
            sqs,
            sqs_visible_at_ms,
            running: self.running_sum / n,
            busy_share: self.busy_share_sum / n,
            durations: std::mem::take(&mut self.durations),
            sampled_in_flight_mean: self.in_flight_sum / n,
            sent: std::mem::replace(&mut self.sent, std::mem::take(&mut self.sent_next)),
        });
        // A slipped reading lands in the minute that starts now.
        self.gauge = std::mem::take(&mut self.slipped);
        self.running_sum = 0.0;
        self.in_flight_sum = 0.0;
        self.busy_share_sum = 0.0;
        self.samples = 0;
        if self.model.gauge_phase == GaugePhase::Random {
            self.phase_slot = Self::draw_phase(&self.model, &mut self.rng);
        }
    }

    /// Every closed minute, oldest first (index = minute number).
    pub fn minutes(&self) -> &[MinuteData] {
        &self.minutes
    }

    /// Closed minutes whose end is at least `delay_secs` before `now_ms`: those a metric with that publication
    /// delay has delivered.
    pub fn delivered(&self, now_ms: u64, delay_secs: u64) -> usize {
        let horizon = now_ms.saturating_sub(delay_secs * 1000);
        ((horizon / MINUTE_MS) as usize).min(self.minutes.len())
    }

    /// The SQS datapoint of minute `m` as an alarm sees it at `now_ms` (None: missing or not yet delivered).
    pub fn sqs_at(&self, m: usize, now_ms: u64) -> Option<SqsDatapoint> {
        let minute = self.minutes.get(m)?;
        if minute.sqs_visible_at_ms > now_ms {
            return None;
        }
        minute.sqs
    }

    /// RunningTaskCount of minute `m` at `now_ms` (None: not delivered yet).
    pub fn running_at(&self, m: usize, now_ms: u64) -> Option<f64> {
        (m < self.delivered(now_ms, self.model.insights_delay_secs))
            .then(|| self.minutes[m].running)
    }

    /// The service's CPU (busy share) of minute `m` at `now_ms`.
    pub fn busy_share_at(&self, m: usize, now_ms: u64) -> Option<f64> {
        (m < self.delivered(now_ms, self.model.insights_delay_secs))
            .then(|| self.minutes[m].busy_share)
    }

    /// The workers' statistic set of minute `m` at `now_ms`.
    pub fn durations_at(&self, m: usize, now_ms: u64) -> Option<StatisticSet> {
        (m < self.delivered(now_ms, self.model.custom_delay_secs))
            .then(|| self.minutes[m].durations)
    }

    /// SQS's activity of minute `m` at `now_ms` ([`MinuteData::sqs_activity`]), delivered with SQS's datapoint
    /// (None: missing or not yet delivered).
    pub fn activity_at(&self, m: usize, now_ms: u64) -> Option<bpi_core::ActivityMinute> {
        self.sqs_at(m, now_ms)?;
        self.minutes[m].sqs_activity()
    }

    /// NumberOfMessagesSent of minute `m` at `now_ms`, delivered with SQS's datapoint (None: not yet; a minute
    /// nothing was sent in reads 0 once delivered, as `FILL(.., 0)` or a missing datapoint reads to the forecaster).
    pub fn sent_at(&self, m: usize, now_ms: u64) -> Option<f64> {
        let minute = self.minutes.get(m)?;
        (minute.sqs_visible_at_ms <= now_ms).then_some(minute.sent)
    }

    /// The model in force.
    pub fn model(&self) -> &AwsModel {
        &self.model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(visible: u64) -> Live {
        Live {
            visible,
            running: 1,
            alive: 1,
            desired: 1,
            ..Live::default()
        }
    }

    fn model(phase: u32) -> AwsModel {
        AwsModel {
            gauge_phase: GaugePhase::Fixed { secs: phase },
            gauge_slip_share: 0.0,
            ..AwsModel::default()
        }
    }

    /// Feeds `visible(t)` every 10 s up to `end_secs`.
    fn feed(store: &mut MetricStore, end_secs: u64, visible: impl Fn(u64) -> u64) {
        for t in (0..=end_secs).step_by(10) {
            store.sample(t * 1000, &live(visible(t)), 1);
        }
    }

    #[test]
    fn one_reading_a_minute_at_the_phase_makes_max_and_mean_one_number() {
        // 50 messages at each minute's start, drained by 25 s: a reading at :00 sees 50, at :30 sees 0.
        let load = |t: u64| if t % 60 < 25 { 50 } else { 0 };
        for (phase, seen) in [(0, 50.0), (30, 0.0)] {
            let mut s = MetricStore::new(model(phase), 1);
            feed(&mut s, 600, load);
            let d = s.minutes()[3].sqs.expect("a reading");
            assert_eq!(
                (d.visible.max, d.visible.mean),
                (seen, seen),
                "phase {phase}"
            );
        }
        // Six readings a minute: the Maximum is the peak, the Average a sixth of... 3 of 6 samples are 50.
        let mut s = MetricStore::new(
            AwsModel {
                gauge_readings_per_minute: 6,
                ..model(0)
            },
            1,
        );
        feed(&mut s, 600, load);
        let d = s.minutes()[3].sqs.expect("readings");
        assert_eq!((d.visible.max, d.visible.mean), (50.0, 25.0));
    }

    #[test]
    fn a_reading_on_a_minute_boundary_belongs_to_the_minute_it_starts() {
        // A burst of 600 arrives at 2:00 and stays. The reading at 2:00 is minute 2's, never minute 1's.
        let mut s = MetricStore::new(model(0), 1);
        feed(&mut s, 300, |t| if t >= 120 { 600 } else { 0 });
        assert_eq!(s.minutes()[1].sqs.map(|d| d.visible.max), Some(0.0));
        assert_eq!(s.minutes()[2].sqs.map(|d| d.visible.max), Some(600.0));
        // Delivered 60 s after the minute ends: minute 2 (ends 3:00) is visible at 4:00, not before.
        assert_eq!(s.sqs_at(2, 239_999), None);
        assert!(s.sqs_at(2, 240_000).is_some());
        assert_eq!(s.delivered(240_000, 60), 3);
        // A 180 s SQS delay holds it until 6:00; a 120 s custom-metric delay delivers its durations at 5:00.
        let mut slow = MetricStore::new(
            AwsModel {
                sqs_delay_secs: 180,
                custom_delay_secs: 120,
                ..model(0)
            },
            1,
        );
        slow.record_duration(4.0);
        feed(&mut slow, 400, |t| if t >= 120 { 600 } else { 0 });
        assert_eq!(slow.sqs_at(2, 359_999), None);
        assert!(slow.sqs_at(2, 360_000).is_some());
        assert_eq!(slow.durations_at(0, 179_999), None);
        assert_eq!(slow.durations_at(0, 180_000).map(|d| d.sum_secs), Some(4.0));
    }

    #[test]
    fn a_slipped_reading_leaves_a_minute_empty_and_the_next_with_two() {
        let mut s = MetricStore::new(
            AwsModel {
                gauge_slip_share: 1.0,
                ..model(30)
            },
            1,
        );
        feed(&mut s, 200, |t| t);
        // Every reading slips: minute 0 has none; minute 1 has minute 0's (t = 30) and not yet its own.
        assert_eq!(s.minutes()[0].sqs, None);
        let m1 = s.minutes()[1].sqs.expect("the slipped reading");
        assert_eq!(m1.visible.max, 30.0);
        let m2 = s.minutes()[2].sqs.expect("the slipped reading");
        assert_eq!(m2.visible.max, 90.0);
    }

    #[test]
    fn a_queue_asleep_for_six_hours_publishes_late_after_it_wakes() {
        let m = AwsModel {
            sqs_sleep_after_secs: 600,
            sqs_wake_delay_secs: 900,
            ..model(0)
        };
        let mut s = MetricStore::new(m, 1);
        // Idle 20 minutes (asleep after 10), then 5 messages from 20:00 on.
        feed(&mut s, 1500, |t| if t >= 1200 { 5 } else { 0 });
        assert_eq!(s.minutes()[15].sqs, None, "asleep: no datapoint");
        assert_eq!(s.minutes()[20].sqs.map(|d| d.visible.max), Some(5.0));
        // Minute 20 would be seen at 22:00; the wake delay holds it until 20:00 + 15 min = 35:00.
        assert_eq!(s.sqs_at(20, 22 * 60_000), None);
        assert!(s.sqs_at(20, 35 * 60_000).is_some());
    }

    #[test]
    fn insights_later_than_sqs_leaves_the_newest_minute_without_a_task_count() {
        let mut s = MetricStore::new(
            AwsModel {
                insights_delay_secs: 120,
                ..model(0)
            },
            1,
        );
        feed(&mut s, 300, |_| 10);
        // At 5:00 SQS has delivered minutes 0-3, Insights 0-2.
        assert!(s.sqs_at(3, 300_000).is_some());
        assert_eq!(s.running_at(3, 300_000), None);
        assert_eq!(s.running_at(2, 300_000), Some(1.0));
    }
}
