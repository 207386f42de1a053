//! Where `idle-then-burst` loses its time: `ours`, KEDA and the reactive limit under the robust table's worst
//! behaviour for the scenario, with the two undocumented delays between a burst and its tasks taken away one at a
//! time (the high-resolution metric's delay before an alarm sees the sampler's reading, and Fargate's launch rate):
//! `cargo run --release -p bpi-sim --example idle_then_burst`.

use bpi_sim::model::{AwsModel, GaugePhase};
use bpi_sim::{PolicyKind, SimSettings, scenario, simulate_arrivals};

fn main() {
    let s = scenario("idle-then-burst").expect("shipped");
    let arrivals = s.arrivals(1);
    println!(
        "| task start | high-res delay | launches a minute | ours | keda | reactive-limit | oracle |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (start, highres, launches) in [
        (180, 20, 20),
        (180, 10, 20),
        (180, 20, 0),
        (180, 0, 0),
        (60, 20, 20),
        (60, 0, 0),
    ] {
        // The worst case's behaviour in the robust table, but for the three varied here.
        let model = AwsModel {
            gauge_phase: GaugePhase::Fixed { secs: 50 },
            gauge_slip_share: 0.2,
            sqs_delay_secs: 120,
            insights_delay_secs: 120,
            custom_delay_secs: 120,
            highres_delay_secs: highres,
            task_start_secs: start,
            launches_per_minute: launches,
            scale_in_step_pct: 25,
            ..AwsModel::default()
        };
        let settings = SimSettings {
            seed: 1,
            model,
            ..SimSettings::default()
        };
        let share =
            |p: PolicyKind| simulate_arrivals(&s, &arrivals, p, &settings).within_promise * 100.0;
        let limit = if launches == 0 {
            "no limit".to_string()
        } else {
            launches.to_string()
        };
        println!(
            "| {start} s | {highres} s | {limit} | {:.2}% | {:.2}% | {:.2}% | {:.2}% |",
            share(PolicyKind::Ours),
            share(PolicyKind::Keda { queue_length: 5 }),
            share(PolicyKind::ReactiveLimit),
            share(PolicyKind::Oracle),
        );
    }
}
