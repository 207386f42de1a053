use bpi_sim::engine::simulate_controller;
use bpi_sim::policies::sampler::{Sampler, SamplerDesign};
use bpi_sim::robust::{Ensemble, behaviours};
use bpi_sim::{PolicyKind, SimSettings, scenarios, simulate_arrivals};

fn main() {
    let ensemble = Ensemble::default();
    let models = behaviours(&ensemble);
    let base = SamplerDesign::default();
    let designs = [
        ("shipped", base),
        (
            "fp0.25",
            SamplerDesign {
                fast_headroom: 0.25,
                ..base
            },
        ),
    ];
    for (label, design) in designs {
        let mut line = format!("{label:22}");
        for scenario in scenarios() {
            let (mut worst_gap, mut worst_hours) = (1.0_f64, 0.0_f64);
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
                    worst_gap = worst_gap.min(r.within_promise - oracle.within_promise);
                    worst_hours = worst_hours.max(r.task_hours / oracle.task_hours);
                }
            }
            line += &format!(" | {:+.2}/{:.2}", worst_gap * 100.0, worst_hours);
        }
        println!("{line}");
    }
}
