//! Where `idle-then-burst` loses its time: `ours`, KEDA and the reactive limit under the robust table's worst
//! behaviour for the scenario, first with the two undocumented delays between a burst and its tasks taken away one at
//! a time (the high-resolution metric's delay before an alarm sees the sampler's reading, and Fargate's launch quota),
//! then with the burst landing a few seconds after the moment every poller reads (the scenario puts it exactly on
//! KEDA's 30-second poll and the sampler's 10-second reading): `cargo run --release -p bpi-sim --example
//! idle_then_burst`.

use bpi_sim::launch::LaunchQuota;
use bpi_sim::model::{AwsModel, GaugePhase};
use bpi_sim::scenario::Arrival;
use bpi_sim::{PolicyKind, SimSettings, scenario, simulate_arrivals};

/// The worst case's behaviour in the robust table, but for the three parameters varied here.
fn model(start: u64, highres: u64, launch_quota: LaunchQuota) -> AwsModel {
    AwsModel {
        gauge_phase: GaugePhase::Fixed { secs: 50 },
        gauge_slip_share: 0.2,
        sqs_delay_secs: 120,
        insights_delay_secs: 120,
        custom_delay_secs: 120,
        highres_delay_secs: highres,
        task_start_secs: start,
        launch_quota,
        scale_in_step_pct: 25,
        ..AwsModel::default()
    }
}

fn shares(arrivals: &[Arrival], model: AwsModel) -> [f64; 4] {
    let s = scenario("idle-then-burst").expect("shipped");
    let settings = SimSettings {
        seed: 1,
        model,
        ..SimSettings::default()
    };
    [
        PolicyKind::Ours,
        PolicyKind::Keda { queue_length: 5 },
        PolicyKind::ReactiveLimit,
        PolicyKind::Oracle,
    ]
    .map(|p| simulate_arrivals(&s, arrivals, p, &settings).within_promise * 100.0)
}

fn main() {
    let arrivals = scenario("idle-then-burst").expect("shipped").arrivals(1);
    println!(
        "| task start | high-res delay | launch quota | ours | keda | reactive-limit | oracle |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let crowded = LaunchQuota::CROWDED_ACCOUNT;
    let none = LaunchQuota::UNLIMITED;
    for (start, highres, quota) in [
        (180, 20, crowded),
        (180, 10, crowded),
        (180, 20, none),
        (180, 0, none),
        (60, 20, crowded),
        (60, 0, none),
    ] {
        let [ours, keda, limit, oracle] = shares(&arrivals, model(start, highres, quota));
        let rate = if quota == none {
            "no limit"
        } else {
            "crowded account"
        };
        println!(
            "| {start} s | {highres} s | {rate} | {ours:.2}% | {keda:.2}% | {limit:.2}% | {oracle:.2}% |"
        );
    }
    println!();
    println!(
        "| burst after the polls (180 s start, 20 s high-res delay, crowded account) | ours | keda | reactive-limit | oracle |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for offset_secs in [0, 1, 5, 9, 15, 25] {
        let shifted: Vec<Arrival> = arrivals
            .iter()
            .map(|a| Arrival {
                at_ms: a.at_ms + offset_secs * 1000,
                ..*a
            })
            .collect();
        let [ours, keda, limit, oracle] =
            shares(&shifted, model(180, 20, LaunchQuota::CROWDED_ACCOUNT));
        println!("| +{offset_secs} s | {ours:.2}% | {keda:.2}% | {limit:.2}% | {oracle:.2}% |");
    }
}
