//! Application Auto Scaling's predictive scaling, measured beside the reactive path on diurnal traffic (issue 24):
//! the suite's two diurnal workloads over 4 days, scored from the second (predictive scaling needs 24 hours of
//! data), ours alone and with predictive scaling whose forecast is exact, 30% low or 30% high; worst case over the
//! ensemble (`-- BEHAVIOURS`, 6 by default), share (points against the oracle) / task-hours ÷ the oracle's.
//! `cargo run --release -p bpi-sim --example predictive [-- BEHAVIOURS]`.

use bpi_sim::policies::ours::{PredictiveModel, SamplerDesign};
use bpi_sim::robust::{Ensemble, behaviours, design_worst_case};
use bpi_sim::suite::{self, Family};

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(6);
    let designs: Vec<(String, SamplerDesign)> =
        std::iter::once(("ours".to_string(), SamplerDesign::default()))
            .chain([0.0, -0.3, 0.3].into_iter().map(|load_error| {
                (
                    format!("ours + predictive ({:+.0}%)", load_error * 100.0),
                    SamplerDesign {
                        predictive: Some(PredictiveModel {
                            load_error,
                            buffer_secs: 300,
                        }),
                        ..SamplerDesign::default()
                    },
                )
            }))
            .collect();
    let mut header = String::from("| workload |");
    let mut rule = String::from("| --- |");
    for (name, _) in &designs {
        header.push_str(&format!(" {name} |"));
        rule.push_str(" --- |");
    }
    println!("{header}\n{rule}");
    for w in suite::workloads()
        .into_iter()
        .filter(|w| w.family == Family::Diurnal)
    {
        let mut s = w.scenario.lasting(4 * 86_400);
        s.scored_from_secs = 86_400;
        s.name = format!("{} over 4 days", s.name);
        let ensemble = Ensemble {
            behaviours: n,
            ..w.part.ensemble(n)
        };
        let models = behaviours(&ensemble);
        let mut row = format!("| {} |", s.name);
        for (_, d) in &designs {
            row.push_str(&format!(
                " {} |",
                design_worst_case(&s, *d, &models, &ensemble.seeds).cell()
            ));
        }
        println!("{row}");
    }
}
