//! How much `ours` rests on one undocumented behaviour, `AwsModel::scale_out_holds_scale_in` (whether the fast path's
//! scale-out holds target tracking's scale-in for its cooldown): the robust ensemble's worst cases with it as
//! modelled and flipped, for the shipped fast path and the latency-first setting:
//! `cargo run --release -p bpi-sim --example scale_in_hold`.

use bpi_sim::engine::simulate_controller;
use bpi_sim::policies::sampler::{Sampler, SamplerDesign};
use bpi_sim::robust::{Ensemble, behaviours};
use bpi_sim::{AwsModel, PolicyKind, SimSettings, scenarios, simulate_arrivals};

fn main() {
    let ensemble = Ensemble::default();
    let base = SamplerDesign::default();
    println!(
        "| fast path share | scale-out holds scale-in | blueprint | varying | burst | mpd-shift | diurnal | idle-then-burst |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for headroom in [base.fast_headroom, 0.25] {
        let design = SamplerDesign {
            fast_headroom: headroom,
            ..base
        };
        for holds in [true, false] {
            let models: Vec<AwsModel> = behaviours(&ensemble)
                .into_iter()
                .map(|m| AwsModel {
                    scale_out_holds_scale_in: holds,
                    ..m
                })
                .collect();
            let mut line = format!("| {headroom} | {holds} |");
            for scenario in scenarios() {
                let (mut worst, mut worst_gap, mut worst_hours) = (1.0_f64, 1.0_f64, 0.0_f64);
                for model in &models {
                    for seed in &ensemble.seeds {
                        let settings = SimSettings {
                            seed: *seed,
                            model: *model,
                            ..SimSettings::default()
                        };
                        let arrivals = scenario.arrivals(*seed);
                        let oracle =
                            simulate_arrivals(&scenario, &arrivals, PolicyKind::Oracle, &settings);
                        let r = simulate_controller(
                            &scenario,
                            &arrivals,
                            PolicyKind::Ours,
                            Box::new(Sampler::new(&scenario, design)),
                            &settings,
                        );
                        worst = worst.min(r.within_promise);
                        worst_gap = worst_gap.min(r.within_promise - oracle.within_promise);
                        worst_hours = worst_hours.max(r.task_hours / oracle.task_hours);
                    }
                }
                line += &format!(
                    " {:.2}% ({:+.2}) / {worst_hours:.2} |",
                    worst * 100.0,
                    worst_gap * 100.0
                );
            }
            println!("{line}");
        }
    }
}
