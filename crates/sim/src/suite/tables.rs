//! The suite's rows as the tables the docs and the README show.

use super::{meets_forecast_goal, meets_goal};
use crate::policies::PolicyKind;
use crate::robust::RobustRow;

/// The rows as a Markdown table against the reactive limit, with the goal of [`meets_goal`] per row.
pub fn table(rows: &[RobustRow]) -> String {
    let mut out = String::from(
        "| workload | policy | worst within promise | − reactive limit (points) | task-hours ÷ reactive limit, worst | median | actions / flaps a day, worst | goal (share, hours) |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        out.push_str(&table_row(r));
        out.push('\n');
    }
    out
}

/// One row of [`table`], without its line end.
pub fn table_row(r: &RobustRow) -> String {
    let mark = |ok: bool| if ok { "met" } else { "missed" };
    let (share, hours) = meets_goal(r);
    format!(
        "| {} | {} | {:.2}% | {:+.2} | {:.2} | {:.2} | {:.0} / {:.1} | {}, {} |",
        r.scenario,
        r.policy,
        r.worst_share * 100.0,
        r.worst_vs_reactive * 100.0,
        r.worst_hours_vs_reactive,
        r.median_hours_vs_reactive,
        r.worst_actions_per_day,
        r.worst_flaps_per_day,
        mark(share),
        mark(hours)
    )
}

/// Recurring workloads' rows against the oracle and the reactive limit, with [`meets_forecast_goal`] for ours.
pub fn forecast_table(rows: &[RobustRow]) -> String {
    let mut out = String::from(
        "| workload | policy | worst within promise | − oracle (points) | − reactive limit (points) | task-hours ÷ oracle, worst | median | goal (share, hours) | worst case under |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let mark = |ok: bool| if ok { "met" } else { "missed" };
    for r in rows {
        let goal = if r.policy == PolicyKind::Ours.name() {
            let (share, hours) = meets_forecast_goal(r);
            format!("{}, {}", mark(share), mark(hours))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| {} | {} | {:.2}% | {:+.2} | {:+.2} | {:.2} | {:.2} | {goal} | {} |\n",
            r.scenario,
            r.policy,
            r.worst_share * 100.0,
            r.worst_vs_oracle * 100.0,
            r.worst_vs_reactive * 100.0,
            r.worst_hours_vs_oracle,
            r.median_hours_vs_oracle,
            r.worst_under,
        ));
    }
    out
}

/// Per workload, ours against ours without the forecaster: the worst shares and the worst task-hours (each over the
/// reactive limit's), and the goal: no share lower, at most 2% more task-hours.
pub fn forecast_cost_table(rows: &[RobustRow]) -> String {
    let mut out = String::from(
        "| workload | worst within promise, ours | without the forecaster | task-hours ÷ reactive limit, worst, ours | without | ratio | goal (share, hours) |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let mark = |ok: bool| if ok { "met" } else { "missed" };
    for ours in rows.iter().filter(|r| r.policy == PolicyKind::Ours.name()) {
        let Some(without) = rows.iter().find(|r| {
            r.scenario == ours.scenario && r.policy == PolicyKind::OursWithoutForecast.name()
        }) else {
            continue;
        };
        let ratio = ours.worst_hours_vs_reactive / without.worst_hours_vs_reactive;
        out.push_str(&format!(
            "| {} | {:.2}% | {:.2}% | {:.3} | {:.3} | {ratio:.3} | {}, {} |\n",
            ours.scenario,
            ours.worst_share * 100.0,
            without.worst_share * 100.0,
            ours.worst_hours_vs_reactive,
            without.worst_hours_vs_reactive,
            mark(ours.worst_share >= without.worst_share - 1e-9),
            mark(ratio <= 1.02),
        ));
    }
    out
}

/// The README's headline: per workload, ours at its defaults (marked when a peer or a fixed fleet has both a higher
/// share and fewer task-hours), the best peer (the highest worst share, fewer task-hours on a tie), the cheapest
/// fixed fleet compared that keeps 99% within the promise, the reactive limit and the oracle, each as its worst
/// share within the promise and its worst task-hours over the oracle's (robust worst case of `rows`, one part of
/// the suite or both).
pub fn headline_table(rows: &[RobustRow]) -> String {
    let mut out = String::from(
        "| workload | ours | best peer | cheapest fixed fleet at 99% | reactive limit | oracle |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    let is_peer = |policy: &str| {
        ![
            PolicyKind::Ours,
            PolicyKind::OursLatencyFirst,
            PolicyKind::OursWithoutForecast,
            PolicyKind::ReactiveLimit,
            PolicyKind::Oracle,
        ]
        .iter()
        .any(|p| p.name() == policy)
    };
    let cell = |r: &RobustRow| {
        format!(
            "{:.1}% at {:.2}×",
            r.worst_share * 100.0,
            r.worst_hours_vs_oracle
        )
    };
    for ours in rows.iter().filter(|r| r.policy == PolicyKind::Ours.name()) {
        let of_workload = |policy: &str| {
            rows.iter()
                .find(|r| r.scenario == ours.scenario && r.policy == policy)
        };
        let best_peer = rows
            .iter()
            .filter(|r| r.scenario == ours.scenario && is_peer(&r.policy))
            .max_by(|a, b| {
                a.worst_share
                    .total_cmp(&b.worst_share)
                    .then(b.worst_hours_vs_oracle.total_cmp(&a.worst_hours_vs_oracle))
            });
        let (Some(reactive), Some(oracle), Some(peer)) = (
            of_workload(&PolicyKind::ReactiveLimit.name()),
            of_workload(&PolicyKind::Oracle.name()),
            best_peer,
        ) else {
            continue;
        };
        // The fleets are compared smallest first.
        let fixed = rows
            .iter()
            .filter(|r| r.scenario == ours.scenario && r.policy.starts_with("fixed:"))
            .find(|r| r.worst_share >= 0.99)
            .map_or_else(
                || "none compared".to_string(),
                |f| format!("{} {}", f.policy, cell(f)),
            );
        let dominating: Vec<&str> = rows
            .iter()
            .filter(|r| {
                r.scenario == ours.scenario
                    && is_peer(&r.policy)
                    && r.worst_share > ours.worst_share
                    && r.worst_hours_vs_oracle < ours.worst_hours_vs_oracle
            })
            .map(|r| r.policy.as_str())
            .collect();
        let ours_cell = if dominating.is_empty() {
            cell(ours)
        } else {
            format!(
                "{} (**dominated** by {})",
                cell(ours),
                dominating.join(", ")
            )
        };
        out.push_str(&format!(
            "| {} | {} | {} {} | {} | {} | {:.1}% |\n",
            ours.scenario,
            ours_cell,
            peer.policy,
            cell(peer),
            fixed,
            cell(reactive),
            oracle.worst_share * 100.0,
        ));
    }
    out
}

/// Peers (KEDA at each queueLength, the other peers, the fixed fleets) that beat `ours` on both counts in a
/// workload: a higher worst share and fewer worst-case task-hours (over the reactive limit's). The goal: none.
pub fn dominating_ours(rows: &[RobustRow]) -> Vec<(String, String)> {
    let not_a_peer = [
        PolicyKind::Ours,
        PolicyKind::OursLatencyFirst,
        PolicyKind::OursWithoutForecast,
        PolicyKind::ReactiveLimit,
        PolicyKind::Oracle,
    ]
    .map(PolicyKind::name);
    let mut out = Vec::new();
    for ours in rows.iter().filter(|r| r.policy == PolicyKind::Ours.name()) {
        for k in rows
            .iter()
            .filter(|r| r.scenario == ours.scenario && !not_a_peer.contains(&r.policy))
        {
            if k.worst_share > ours.worst_share
                && k.worst_hours_vs_reactive < ours.worst_hours_vs_reactive
            {
                out.push((ours.scenario.clone(), k.policy.clone()));
            }
        }
    }
    out
}
