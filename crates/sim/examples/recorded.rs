//! Recorded real traffic (`bpi_sim::recorded`) replayed week by week at ×1 and ×5: ours, every fixed fleet from 1
//! task up, every peer, the reactive limit and the oracle, over a robust ensemble (worst case), the tuned
//! recordings and the held-out ones apart:
//! `cargo run --release -p bpi-sim --example recorded [-- BEHAVIOURS] [--weeks 1,5] [--policy ours] [--only ko,ups]
//! [--full]`.
//! `--full` prints every policy's row; the summary names, per window, the cheapest fixed fleet that keeps 99% within
//! the promise, every policy that has both a higher share and fewer task-hours than ours, and the frontier: the best
//! share any runnable policy keeps within 1.5, 2, 3 and 5 times the oracle's task-hours.

use std::time::Instant;

use bpi_sim::PolicyKind;
use bpi_sim::recorded::{self, LOADS, RECORDINGS};
use bpi_sim::robust::{self, Ensemble, RobustRow, Traffic};
use bpi_sim::suite::{KEDA_QUEUE_LENGTHS, Part};
use bpi_sim::{Scenario, SimSettings};

/// The largest fixed fleet compared at a load: 1 task up to it.
fn fixed_fleets(load: f64) -> Vec<PolicyKind> {
    let most = if load > 1.0 { 16 } else { 6 };
    (1..=most)
        .map(|tasks| PolicyKind::Fixed { tasks })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let behaviours = args.iter().find_map(|a| a.parse().ok()).unwrap_or(6usize);
    let weeks: Vec<u64> = value("--weeks")
        .map(|w| w.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![1]);
    let only: Option<Vec<PolicyKind>> = value("--policy").map(|p| {
        p.split(',')
            .map(|n| PolicyKind::from_name(n).expect("a policy name"))
            .collect()
    });
    let full = args.iter().any(|a| a == "--full");
    let recordings: Option<Vec<String>> =
        value("--only").map(|o| o.split(',').map(str::to_string).collect());
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let ensemble = Ensemble {
        behaviours,
        seeds: vec![1],
        ..Ensemble::default()
    };
    for part in [Part::Tuning, Part::HeldOut] {
        println!("## {} recordings\n", part.name());
        for r in RECORDINGS.iter().filter(|r| {
            r.part == part
                && recordings
                    .as_ref()
                    .is_none_or(|only| only.iter().any(|n| n == r.name))
        }) {
            let all = recorded::read(r).expect("a shipped recording");
            for &week in &weeks {
                for load in LOADS {
                    let started = Instant::now();
                    let (scenario, arrivals): (Scenario, _) =
                        recorded::window(r, &all, week, load, 1);
                    let policies = only.clone().unwrap_or_else(|| {
                        let mut p = vec![PolicyKind::Ours];
                        p.extend(fixed_fleets(load));
                        p.extend(
                            KEDA_QUEUE_LENGTHS
                                .iter()
                                .map(|&queue_length| PolicyKind::Keda { queue_length }),
                        );
                        p.extend([
                            PolicyKind::Copilot,
                            PolicyKind::Cdk,
                            PolicyKind::Blueprint,
                            PolicyKind::ReactiveLimit,
                            PolicyKind::Oracle,
                        ]);
                        p
                    });
                    let rows = robust::run_on(
                        &[(scenario.clone(), Traffic::Trace(&arrivals))],
                        &policies,
                        &ensemble,
                        &SimSettings::default(),
                        threads,
                    );
                    println!(
                        "### {} ({} messages, {:.0} s)\n",
                        scenario.name,
                        arrivals.len(),
                        started.elapsed().as_secs_f64()
                    );
                    print!("{}", summary(&rows));
                    if full {
                        println!();
                        print!("{}", robust::table(&rows));
                    }
                    println!();
                }
            }
        }
    }
}

fn cell(r: &RobustRow) -> String {
    format!(
        "{:.1}% at {:.2}× ({:.0} actions, {:.1} flaps a day)",
        r.worst_share * 100.0,
        r.worst_hours_vs_oracle,
        r.worst_actions_per_day,
        r.worst_flaps_per_day
    )
}

/// Task-hours budgets (÷ the oracle's) of the frontier.
const BUDGETS: [f64; 4] = [1.5, 2.0, 3.0, 5.0];

/// The frontier where a goal cannot hold: at each task-hours budget, the best worst-case share of any policy a user
/// can run (ours, a peer, a fixed fleet; not the oracle or the reactive limit, which know the future or cost nothing
/// to start) within it.
fn frontier(rows: &[RobustRow]) -> String {
    BUDGETS
        .iter()
        .map(|&budget| {
            let best = rows
                .iter()
                .filter(|r| {
                    !["oracle", "reactive-limit"].contains(&r.policy.as_str())
                        && r.worst_hours_vs_oracle <= budget
                })
                .max_by(|a, b| {
                    a.worst_share
                        .total_cmp(&b.worst_share)
                        .then(b.worst_hours_vs_oracle.total_cmp(&a.worst_hours_vs_oracle))
                });
            match best {
                Some(r) => format!("≤ {budget}×: {:.1}% ({})", r.worst_share * 100.0, r.policy),
                None => format!("≤ {budget}×: none"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Ours, the cheapest fixed fleet at 99%, the best other peer, the reactive limit, and who dominates ours.
fn summary(rows: &[RobustRow]) -> String {
    let find = |name: &str| rows.iter().find(|r| r.policy == name);
    let mut out = String::new();
    let ours = find("ours");
    if let Some(o) = ours {
        out.push_str(&format!("- ours: {}\n", cell(o)));
    }
    let fixed: Vec<&RobustRow> = rows
        .iter()
        .filter(|r| r.policy.starts_with("fixed:"))
        .collect();
    match fixed.iter().find(|r| r.worst_share >= 0.99) {
        Some(f) => out.push_str(&format!(
            "- cheapest fixed fleet at 99%: {} {}\n",
            f.policy,
            cell(f)
        )),
        None => {
            if let Some(best) = fixed
                .iter()
                .max_by(|a, b| a.worst_share.total_cmp(&b.worst_share))
            {
                out.push_str(&format!(
                    "- no fixed fleet compared reaches 99%; the best: {} {}\n",
                    best.policy,
                    cell(best)
                ));
            }
        }
    }
    let peers = rows.iter().filter(|r| {
        !r.policy.starts_with("fixed:")
            && !["ours", "oracle", "reactive-limit"].contains(&r.policy.as_str())
    });
    if let Some(p) = peers.max_by(|a, b| {
        a.worst_share
            .total_cmp(&b.worst_share)
            .then(b.worst_hours_vs_oracle.total_cmp(&a.worst_hours_vs_oracle))
    }) {
        out.push_str(&format!("- best other peer: {} {}\n", p.policy, cell(p)));
    }
    if let Some(r) = find("reactive-limit") {
        out.push_str(&format!("- reactive limit: {}\n", cell(r)));
    }
    out.push_str(&format!("- frontier: {}\n", frontier(rows)));
    if let Some(o) = ours {
        let dominating: Vec<String> = rows
            .iter()
            .filter(|r| {
                !["ours", "oracle", "reactive-limit"].contains(&r.policy.as_str())
                    && r.worst_share > o.worst_share
                    && r.worst_hours_vs_oracle < o.worst_hours_vs_oracle
            })
            .map(|r| r.policy.clone())
            .collect();
        if dominating.is_empty() {
            out.push_str("- no peer or fixed fleet has both a higher share and fewer task-hours\n");
        } else {
            out.push_str(&format!("- **dominated by** {}\n", dominating.join(", ")));
        }
    }
    out
}
