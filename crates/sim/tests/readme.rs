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
