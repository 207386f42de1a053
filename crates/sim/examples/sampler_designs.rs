//! Measures variants of the previous sampler design (the fast path sized by shares of the target) over the robust ensemble, beside the oracle (the worst case of each
//! scenario): `cargo run --release -p bpi-sim --example sampler_designs`. With `-- --held-out`, over an ensemble the
//! design was not chosen on (another sample of behaviours, other arrival seeds), to check it was not fitted to the
//! first.

use bpi_core::sampler::FastPathShares;
use bpi_sim::policies::ours::{AskAhead, FastPathSizing, SamplerDesign, UtilizationSource};
use bpi_sim::robust::{Ensemble, behaviours, design_worst_case};
use bpi_sim::scenarios;

fn main() {
    let ensemble = if std::env::args().any(|a| a == "--held-out") {
        Ensemble {
            sample_seed: 11,
            seeds: vec![3, 4],
            ..Ensemble::default()
        }
    } else {
        Ensemble::default()
    };
    let models = behaviours(&ensemble);
    // The shares' variants, on the design they were measured on (the fast path sized by shares, target tracking's
    // scale-in); the capacity model's candidates are `capacity_designs`.
    let base = SamplerDesign {
        sizing: FastPathSizing::Shares,
        scale_in_window_secs: None,
        ..SamplerDesign::default().reactive_only()
    };
    let with_shares = |shares: FastPathShares| SamplerDesign {
        fast_shares: shares,
        ..base
    };
    let rising_steady = FastPathShares::new;
    let while_pending = |shares: FastPathShares| SamplerDesign {
        fast_shares: shares,
        ask_ahead: AskAhead::PendingTasks,
        ..base
    };
    let rising_above = |rising_above_running: f64| {
        with_shares(FastPathShares {
            rising_above_running,
            ..FastPathShares::default()
        })
    };
    let designs = [
        ("shares (the previous design)", base),
        (
            "asking ahead while tasks are pending, 0.35 / 0.8 (the previous rule)",
            while_pending(rising_steady(0.35, 0.8)),
        ),
        (
            "asking ahead while tasks are pending, 0.25 / 0.8",
            while_pending(rising_steady(0.25, 0.8)),
        ),
        (
            "one share of 0.5 (the first sampler design's fast path)",
            with_shares(FastPathShares::both(0.5)),
        ),
        (
            "fast path at the whole target",
            with_shares(FastPathShares::both(1.0)),
        ),
        (
            "fast path at 0.7 of the target",
            with_shares(FastPathShares::both(0.7)),
        ),
        (
            "fast path at 0.25 of the target",
            with_shares(FastPathShares::both(0.25)),
        ),
        (
            "0.35 rising, 0.8 steady",
            with_shares(rising_steady(0.35, 0.8)),
        ),
        (
            "0.2 rising, 0.8 steady",
            with_shares(rising_steady(0.2, 0.8)),
        ),
        (
            "0.25 rising, 0.7 steady",
            with_shares(rising_steady(0.25, 0.7)),
        ),
        ("rising above 1.1 x the running tasks", rising_above(1.1)),
        ("rising above 1.5 x the running tasks", rising_above(1.5)),
        ("rising above 2 x the running tasks", rising_above(2.0)),
        (
            "idle after 1 minute",
            SamplerDesign {
                idle_minutes: 1,
                ..base
            },
        ),
        (
            "utilization 85%",
            SamplerDesign {
                utilization_pct: 85,
                ..base
            },
        ),
        (
            "utilization 90%",
            SamplerDesign {
                utilization_pct: 90,
                ..base
            },
        ),
        (
            "no utilization policy",
            SamplerDesign {
                utilization_pct: 0,
                ..base
            },
        ),
        (
            "tracking at 0.8 of the target",
            SamplerDesign {
                headroom: 0.8,
                ..base
            },
        ),
        (
            "fast path without the recent MPD",
            SamplerDesign {
                recent_mpd: false,
                ..base
            },
        ),
        (
            "the first sampler design: one share of 0.5, utilization on the workers' durations",
            SamplerDesign {
                utilization_source: UtilizationSource::WorkerDurations,
                fast_shares: FastPathShares::both(0.5),
                ..base
            },
        ),
        (
            "the workers' durations, fast path at the whole target",
            SamplerDesign {
                utilization_source: UtilizationSource::WorkerDurations,
                fast_shares: FastPathShares::both(1.0),
                ..base
            },
        ),
        (
            "not shipped: the sampler sets the desired count itself",
            SamplerDesign {
                fast_path_by_the_sampler: true,
                ..base
            },
        ),
        (
            "not shipped: the idle wait set hourly to the longest gap of the last hour and a minute (1-15)",
            SamplerDesign {
                idle_after_longest_gap: Some((1, 15)),
                ..base
            },
        ),
        (
            "updater every 5 minutes",
            SamplerDesign {
                updater_every_secs: 300,
                ..base
            },
        ),
    ];
    for (label, design) in designs {
        println!("== {label}: {design:?}");
        for scenario in scenarios() {
            let w = design_worst_case(&scenario, design, &models, &ensemble.seeds);
            println!(
                "{:16} worst {:6.2}%  vs oracle {:+6.2}  hours/oracle worst {:.2}",
                scenario.name,
                w.share * 100.0,
                w.vs_oracle * 100.0,
                w.hours_vs_oracle
            );
        }
    }
}
