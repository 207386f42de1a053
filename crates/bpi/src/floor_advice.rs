//! The keep-alive's floor and headroom priced on a user's own history: what `bpi plan --history` and the what-if
//! (`bpi simulate` on replayed traffic) print. The numbers are core's (`keep_alive::floor_advice`); this module only
//! bins the history by the minute and words the result.

use bpi_core::capacity::{BusyRule, CapacityModel, DEFAULT_TASK_START_SECS};
use bpi_core::keep_alive::{
    ADVICE_HEADROOM_QUANTILE, DEFAULT_MISS_BUDGET, DEFAULT_MOST_IDLE_MINUTES, FLOOR_MINUTES,
    KeepAliveSettings, floor_advice,
};
use bpi_core::policy::{DEFAULT_IDLE_MINUTES, DEFAULT_TARGET_UTILIZATION_PCT};

/// The deployment the advice is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deployment {
    /// The promise, seconds.
    pub latency_secs: f64,
    /// Messages a task processes at once.
    pub concurrency: u32,
    /// Most tasks.
    pub max_tasks: u32,
    /// The price of a task-hour, USD.
    pub task_hour_usd: f64,
}

/// Messages sent in each minute from arrival times in milliseconds (the first minute is the first arrival's).
pub fn per_minute(arrivals_ms: impl Iterator<Item = u64>) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for at in arrivals_ms {
        let m = (at / 60_000) as usize;
        if out.len() <= m {
            out.resize(m + 1, 0.0);
        }
        out[m] += 1.0;
    }
    out
}

/// The advice's lines for `sent_per_minute` with messages of `mpd_secs`.
pub fn render(sent_per_minute: &[f64], mpd_secs: f64, d: &Deployment) -> String {
    let task_start_secs = f64::from(DEFAULT_TASK_START_SECS);
    let model = CapacityModel {
        promise_secs: d.latency_secs,
        concurrency: d.concurrency.max(1),
        task_start_secs,
        target_utilization: f64::from(DEFAULT_TARGET_UTILIZATION_PCT) / 100.0,
        busy_rule: BusyRule::Utilization,
    };
    let a = floor_advice(
        sent_per_minute,
        mpd_secs,
        &model,
        d.max_tasks,
        &KeepAliveSettings {
            task_start_secs,
            miss_budget: DEFAULT_MISS_BUDGET,
            fewest_idle_minutes: DEFAULT_IDLE_MINUTES,
            most_idle_minutes: DEFAULT_MOST_IDLE_MINUTES,
            floor_minutes: FLOOR_MINUTES,
            headroom_quantile: ADVICE_HEADROOM_QUANTILE,
        },
    );
    let k = &a.keep_alive;
    let usd = |hours: f64| hours * d.task_hour_usd;
    let mut out = format!(
        "keep-alive          idle wait {} min from the history's gaps ({:.2}% of messages would still wait for a start); \
         the floor of one task holds {:.0}% of the time: {:.0} task-hours, ${:.2} a month (on by default)\n",
        k.idle_minutes,
        k.missed_share * 100.0,
        a.active_share * 100.0,
        a.floor_task_hours_per_month,
        usd(a.floor_task_hours_per_month),
    );
    let start = format!(
        "the {:.0} messages of a {:.0} s task start at the 99th percentile",
        k.start_window_messages, task_start_secs
    );
    out.push_str(&if k.headroom_tasks > 1 {
        format!(
            "headroom            {start} need {} tasks already running: {} more while active, {:.0} task-hours, ${:.2} a month more \
             (not on by default: docs/design.md, \"Keeping the promise on real traffic\")\n",
            k.headroom_tasks,
            k.headroom_tasks - 1,
            a.headroom_task_hours_per_month,
            usd(a.headroom_task_hours_per_month),
        )
    } else {
        format!("headroom            {start}: the floor's one task serves them, no more needed\n")
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_by_the_minute_and_prices_the_floor_and_the_headroom() {
        assert_eq!(
            per_minute([0, 59_999, 60_000, 185_000].into_iter()),
            vec![2.0, 1.0, 0.0, 1.0]
        );
        let d = Deployment {
            latency_secs: 60.0,
            concurrency: 1,
            max_tasks: 20,
            task_hour_usd: 0.01,
        };
        // Busy all the time, 2 a minute of 2 s, with a spike of 600 once a day.
        let mut sent = vec![2.0; 1440 * 3];
        for day in 0..3 {
            sent[day * 1440 + 600] = 600.0;
        }
        let text = render(&sent, 2.0, &d);
        assert!(
            text.contains("holds 100% of the time: 730 task-hours, $7.30 a month"),
            "{text}"
        );
        // 99th percentile of 3-minute windows: 6 messages; the spikes are 9 windows of 4,318 (0.2%).
        assert!(text.contains("no more needed"), "{text}");
        for day in 0..3 {
            for m in 0..30 {
                sent[day * 1440 + 700 + m] = 120.0;
            }
        }
        // 90 of 4,318 windows now hold 360 messages (2.1%): 360 × 2 s / 240 s = 3 tasks.
        let text = render(&sent, 2.0, &d);
        assert!(
            text.contains("need 3 tasks already running: 2 more while active"),
            "{text}"
        );
        assert!(
            text.contains("1460 task-hours, $14.60 a month more"),
            "{text}"
        );
    }
}
