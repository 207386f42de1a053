//! The simulator: cases worked by hand, invariants over every shipped scenario and policy, determinism.

#![allow(clippy::float_cmp)] // exact expected values

use bpi_core::DurationDistribution;
use bpi_sim::scenario::{Arrivals, Durations};
use bpi_sim::{PolicyKind, Scenario, SimSettings, scenarios, simulate};

fn fixed_fleet(tasks: u32, arrivals: Arrivals, secs: f64, duration_secs: u64) -> Scenario {
    Scenario {
        name: "hand".into(),
        description: "worked by hand".into(),
        duration_secs,
        arrivals,
        durations: Durations::fixed(DurationDistribution::Constant { secs }),
        latency_secs: 60.0,
        concurrency: 1,
        min_tasks: tasks,
        max_tasks: tasks,
        visibility_timeout_secs: 30,
        task_start_secs: 60,
        declared_mpd_secs: 5.0,
    }
}

#[test]
fn constant_arrivals_on_a_fixed_fleet_give_the_expected_latency_and_cost() {
    // 50 messages of 5 s at each minute's start on 5 tasks: message k of a minute starts at 5 s × floor(k / 5),
    // so waits are 0, 5, ..., 45 s, five of each; the median (25th of 50) is 20 s. 10 minutes: 500 messages,
    // all done by 9:50. 5 tasks × 10 min = 50 task-minutes for 500 × 5 s = 41.67 task-minutes of work: 1.2×.
    let s = fixed_fleet(5, Arrivals::EveryMinute { count: 50 }, 5.0, 600);
    for policy in [
        PolicyKind::Ours,
        PolicyKind::Blueprint,
        PolicyKind::Copilot,
        PolicyKind::KedaLike,
    ] {
        let r = simulate(&s, policy, &SimSettings::default());
        assert_eq!(
            (r.messages, r.processed, r.duplicates),
            (500, 500, 0),
            "{policy:?}"
        );
        assert_eq!(r.within_promise, 1.0);
        assert_eq!((r.p50_secs, r.max_secs), (20.0, 45.0));
        assert!((r.task_hours - 5.0 / 6.0).abs() < 1e-9, "{}", r.task_hours);
        assert!(
            (r.cost_vs_lower_bound - 1.2).abs() < 1e-9,
            "{}",
            r.cost_vs_lower_bound
        );
        assert_eq!(r.scaling_actions, 0, "min = max: nothing to scale");
    }
}

#[test]
fn a_burst_drains_when_expected() {
    // 1000 messages of 1 s at t = 30 s on 10 tasks: 100 rounds; the last starts 99 s after arriving.
    let s = fixed_fleet(
        10,
        Arrivals::Burst {
            at_secs: 30,
            count: 1000,
        },
        1.0,
        600,
    );
    let r = simulate(&s, PolicyKind::Ours, &SimSettings::default());
    assert_eq!((r.processed, r.max_secs, r.p50_secs), (1000, 99.0, 49.0));
    assert_eq!(r.within_promise, 0.61, "waits 0..=60 s: 61 rounds of 10");
}

#[test]
fn without_a_heartbeat_a_long_message_is_processed_twice() {
    // One 60 s message, visibility timeout 30 s, two tasks: visible again at 30 s and taken by the idle task.
    let s = fixed_fleet(
        2,
        Arrivals::Burst {
            at_secs: 10,
            count: 1,
        },
        60.0,
        300,
    );
    assert_eq!(
        simulate(&s, PolicyKind::Blueprint, &SimSettings::default()).duplicates,
        1
    );
    assert_eq!(
        simulate(&s, PolicyKind::Ours, &SimSettings::default()).duplicates,
        0
    );
}

#[test]
fn target_tracking_scales_out_under_load_and_stays_within_bounds() {
    let s = Scenario {
        min_tasks: 1,
        max_tasks: 10,
        ..fixed_fleet(1, Arrivals::EveryMinute { count: 50 }, 5.0, 3600)
    };
    let r = simulate(&s, PolicyKind::Ours, &SimSettings::default());
    let peak = r.timeline.0.iter().map(|p| p.tasks).max().unwrap_or(0);
    assert!(peak > 1, "scaled out from 1 task");
    assert!(
        r.timeline
            .0
            .iter()
            .all(|p| p.tasks <= 10 && (1..=10).contains(&p.desired))
    );
}

#[test]
fn every_shipped_scenario_runs_under_every_policy_and_keeps_the_invariants() {
    let settings = SimSettings::default();
    for scenario in scenarios() {
        // Two hours each (the burst ones keep their burst in range).
        let s = scenario
            .clone()
            .lasting(scenario.duration_secs.min(3 * 3600));
        let expected = s.arrivals(settings.seed).len() as u64;
        for policy in PolicyKind::ALL {
            let r = simulate(&s, policy, &settings);
            assert_eq!(r.messages, expected, "{} {policy:?}", s.name);
            assert!(r.processed <= r.messages);
            assert!((0.0..=1.0).contains(&r.within_promise));
            assert!(
                r.p50_secs <= r.p95_secs && r.p95_secs <= r.p99_secs && r.p99_secs <= r.max_secs
            );
            for p in &r.timeline.0 {
                assert!(
                    p.desired >= s.min_tasks && p.desired <= s.max_tasks,
                    "{} {policy:?}: {p:?}",
                    s.name
                );
            }
            if r.processed == r.messages && r.messages > 0 {
                assert!(
                    r.cost_vs_lower_bound >= 1.0 - 1e-9,
                    "{} {policy:?}: below the lower bound",
                    s.name
                );
            }
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_report_and_another_seed_another() {
    let s = bpi_sim::scenario("varying").expect("shipped").lasting(3600);
    let a = simulate(&s, PolicyKind::Ours, &SimSettings::default());
    let b = simulate(&s, PolicyKind::Ours, &SimSettings::default());
    assert_eq!(a, b);
    let c = simulate(
        &s,
        PolicyKind::Ours,
        &SimSettings {
            seed: 2,
            ..SimSettings::default()
        },
    );
    assert_ne!(
        a.p99_secs.to_bits() ^ a.task_hours.to_bits(),
        c.p99_secs.to_bits() ^ c.task_hours.to_bits()
    );
}

#[test]
fn the_utilization_policy_keeps_a_steady_load_off_the_latency_edge() {
    // Target tracking on backlog per task alone scales in while the queue is empty until a backlog of `target` per
    // task builds, which is the promise itself: in `diurnal` that was 90.6% within the promise, 449 actions and 2.7×
    // the lower bound. The utilization policy refuses scale-in below the work.
    let s = bpi_sim::scenario("diurnal").expect("shipped");
    let r = simulate(&s, PolicyKind::Ours, &SimSettings::default());
    assert!(r.within_promise >= 0.99, "{}", r.within_promise);
    assert!(r.cost_vs_lower_bound <= 1.6, "{}", r.cost_vs_lower_bound);
    assert!(r.scaling_actions <= 200, "{}", r.scaling_actions);
}

#[test]
fn the_idle_policy_returns_a_burst_fleet_at_once() {
    // Gradual target-tracking scale-in kept 100 tasks idling after the burst drained (11× the lower bound).
    let s = bpi_sim::scenario("burst").expect("shipped");
    let r = simulate(&s, PolicyKind::Ours, &SimSettings::default());
    assert_eq!(r.within_promise, 1.0);
    assert!(r.cost_vs_lower_bound <= 4.0, "{}", r.cost_vs_lower_bound);
}
