//! How much `ours` rests on one undocumented behaviour, `AwsModel::scale_out_holds_scale_in` (whether the fast path's
//! scale-out holds target tracking's scale-in for its cooldown): the robust ensemble's worst cases with it as
//! modelled and flipped, for the shipped fast path and the latency-first setting:
//! `cargo run --release -p bpi-sim --example scale_in_hold`.

use bpi_core::sampler::FastPathShares;
use bpi_sim::AwsModel;
use bpi_sim::policies::ours::SamplerDesign;
use bpi_sim::robust::{Ensemble, behaviours, design_worst_case};
use bpi_sim::scenarios;

fn main() {
    let ensemble = Ensemble::default();
    let base = SamplerDesign::default().reactive_only();
    println!(
        "| fast path share | scale-out holds scale-in | blueprint | varying | burst | mpd-shift | diurnal | idle-then-burst |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (label, shares) in [
        ("0.25 / 0.8 (default)", base.fast_shares),
        ("0.25", FastPathShares::both(0.25)),
    ] {
        let design = SamplerDesign {
            fast_shares: shares,
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
            let mut line = format!("| {label} | {holds} |");
            for scenario in scenarios() {
                let w = design_worst_case(&scenario, design, &models, &ensemble.seeds);
                line += &format!(" {} |", w.cell());
            }
            println!("{line}");
        }
    }
}
