//! The README's simulator tables are what the commands print: the model's parameters (`bpi simulate
//! --parameters`) and the robust comparison (`bpi simulate --robust`).

use bpi_sim::robust::{self, Ensemble};
use bpi_sim::{PolicyKind, SimSettings, scenarios};

fn readme_section(marker: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let begin = format!("<!-- {marker}:begin -->\n");
    let end = format!("<!-- {marker}:end -->");
    let from = readme.find(&begin).expect("begin marker") + begin.len();
    let to = readme.find(&end).expect("end marker");
    readme[from..to].to_string()
}

#[test]
fn the_readme_shows_the_model_parameters_as_generated() {
    assert_eq!(
        readme_section("model-parameters"),
        bpi_sim::model::parameters_table(),
        "regenerate with `bpi simulate --parameters`"
    );
}

#[test]
fn the_readme_shows_the_robust_table_as_generated() {
    let rows = robust::run(
        &scenarios(),
        &PolicyKind::ALL,
        &Ensemble::default(),
        &SimSettings::default(),
        2,
    );
    assert_eq!(
        readme_section("robust-table"),
        robust::table(&rows),
        "regenerate with `bpi simulate --robust`"
    );
}

#[test]
fn the_readme_shows_littles_law_against_the_measured_mpd_as_generated() {
    let rows =
        bpi_sim::littles_law::compare(&scenarios(), &Ensemble::default(), &SimSettings::default());
    assert_eq!(
        readme_section("littles-law-table"),
        bpi_sim::littles_law::table(&rows),
        "regenerate with `cargo run --release -p bpi-sim --example littles_law`"
    );
    // The design rests on this: with the sampler's readings the estimate stays within about a fifth of the
    // measurement (+18.0% at worst) and errs long (a lower target: more tasks, the safe side), short by a few percent
    // at most, where SQS's one reading a minute can be off by over 150%.
    for r in &rows {
        assert!(
            r.sampler.worst > -0.05 && r.sampler.worst < 0.25,
            "{}: {:?}",
            r.scenario,
            r.sampler
        );
        assert_eq!(r.sampler.unknown, 0, "{}", r.scenario);
    }
}

#[test]
fn the_readme_shows_the_idle_wait_against_batch_gaps_as_generated() {
    let rows = bpi_sim::idle_gap::compare();
    assert_eq!(
        readme_section("idle-gap-table"),
        bpi_sim::idle_gap::table(&rows),
        "regenerate with `cargo run --release -p bpi-sim --example idle_gap`"
    );
    // The default's reason: a wait shorter than the batches' gap costs the promise at every batch; 3 minutes
    // bridges batches 3 minutes apart.
    let share = |label: &str, column: usize| {
        rows.iter()
            .find(|r| r.label.starts_with(label))
            .map(|r| r.worst[column].share)
            .expect("row")
    };
    assert!(share("idle after 1 minute", 0) < 0.5);
    assert!(share("idle after 3 minutes (default)", 1) > 0.98);
}
