//! The trade-off in view: per workload of the suite, every policy as a point of (task-hours ÷ the reactive limit's,
//! share within the promise − the reactive limit's), each the worst over the part's ensemble against the reactive
//! limit of the same behaviour and arrivals, drawn as one small chart per workload.
//!
//! Why it exists: a table row says how far a policy is from the goal; a chart says whether any setting of a peer
//! (KEDA's queueLength, from 1 to 20) sits above and to the left of ours, i.e. buys more of the promise for fewer
//! task-hours. The goal box (at most 1 point below the reactive limit, at most 1.5× its task-hours) is drawn in
//! each. Shares are drawn against the reactive limit, not as they are: the worst share of each policy comes from
//! its own worst behaviour (a 180 s start, say), so the bare worst shares of two policies are not comparable; the
//! worst gap to the bound under the same behaviour is.

use std::fmt::Write as _;

use crate::robust::RobustRow;

/// How a point is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Ours,
    OursLatencyFirst,
    Keda(u32),
    Fixed(u32),
    Copilot,
    Cdk,
    Blueprint,
    ReactiveLimit,
    Oracle,
    Other,
}

impl Mark {
    fn of(policy: &str) -> Mark {
        match policy {
            "ours" => Mark::Ours,
            "ours-latency-first" => Mark::OursLatencyFirst,
            "copilot" => Mark::Copilot,
            "cdk" => Mark::Cdk,
            "blueprint" => Mark::Blueprint,
            "reactive-limit" => Mark::ReactiveLimit,
            "oracle" => Mark::Oracle,
            _ => {
                let number =
                    |prefix: &str| policy.strip_prefix(prefix).and_then(|n| n.parse().ok());
                number("keda:")
                    .map(Mark::Keda)
                    .or_else(|| number("fixed:").map(Mark::Fixed))
                    .unwrap_or(Mark::Other)
            }
        }
    }
}

const COLUMNS: usize = 3;
const PANEL_W: f64 = 320.0;
const PANEL_H: f64 = 240.0;
const PAD_LEFT: f64 = 46.0;
const PAD_RIGHT: f64 = 12.0;
const PAD_TOP: f64 = 26.0;
const PAD_BOTTOM: f64 = 34.0;
const HEADER: f64 = 64.0;
/// The x axis, task-hours ÷ the reactive limit's, on a log scale: points beyond are drawn at its edge.
const X_MIN: f64 = 0.5;
const X_MAX: f64 = 8.0;
const OURS: &str = "#000000";
const KEDA: &str = "#1f77b4";
const FIXED: &str = "#7f7f7f";
const PEER: &str = "#2ca02c";
const LIMIT: &str = "#d62728";
const GRID: &str = "#e5e5e5";
const GOAL: &str = "#fff4d6";

fn x_of(hours: f64, plot_w: f64) -> f64 {
    let h = hours.clamp(X_MIN, X_MAX);
    (h / X_MIN).log2() / (X_MAX / X_MIN).log2() * plot_w
}

/// The share axis of a panel, points against the reactive limit: from a round floor under the lowest point to a
/// round ceiling over the highest (at least +1).
fn points_axis(rows: &[&RobustRow]) -> (f64, f64) {
    let lowest = rows
        .iter()
        .map(|r| r.worst_vs_reactive * 100.0)
        .fold(-1.0, f64::min);
    let highest = rows
        .iter()
        .map(|r| r.worst_vs_reactive * 100.0)
        .fold(1.0, f64::max);
    let step = axis_step(highest - lowest);
    (
        (lowest / step).floor() * step,
        (highest / step).ceil() * step,
    )
}

/// A round tick step for a span of points: about five ticks.
fn axis_step(span: f64) -> f64 {
    [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 25.0]
        .into_iter()
        .find(|s| span / s <= 6.0)
        .unwrap_or(50.0)
}

/// One panel: `rows` are one workload's.
fn panel(out: &mut String, rows: &[&RobustRow], left: f64, top: f64) {
    let plot_w = PANEL_W - PAD_LEFT - PAD_RIGHT;
    let plot_h = PANEL_H - PAD_TOP - PAD_BOTTOM;
    let (x0, y0) = (left + PAD_LEFT, top + PAD_TOP);
    let (low, high) = points_axis(rows);
    let y_of = |points: f64| y0 + (high - points.clamp(low, high)) / (high - low) * plot_h;
    let at = |r: &RobustRow| {
        (
            x0 + x_of(r.worst_hours_vs_reactive, plot_w),
            y_of(r.worst_vs_reactive * 100.0),
        )
    };
    let title = rows.first().map_or("", |r| r.scenario.as_str());
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" font-weight="bold">{}</text>"#,
        x0,
        top + 16.0,
        escape(title)
    );
    // The goal: at most 1 point below the reactive limit, at most 1.5× its task-hours.
    let _ = writeln!(
        out,
        r#"<rect x="{x0:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="{GOAL}"/>"#,
        x_of(1.5, plot_w),
        y_of(-1.0) - y0
    );
    // Grid and axes.
    for tick in [0.5, 1.0, 1.5, 2.0, 4.0, 8.0] {
        let x = x0 + x_of(tick, plot_w);
        let _ = writeln!(
            out,
            r#"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{:.1}" stroke="{GRID}"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle">{tick}</text>"#,
            y0 + plot_h,
            y0 + plot_h + 12.0
        );
    }
    let step = axis_step(high - low);
    let mut tick = low;
    while tick <= high + 1e-9 {
        let y = y_of(tick);
        let _ = writeln!(
            out,
            r#"<line x1="{x0:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{GRID}"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{:+}</text>"#,
            x0 + plot_w,
            x0 - 4.0,
            y + 3.0,
            tick
        );
        tick += step;
    }
    let _ = writeln!(
        out,
        r##"<rect x="{x0:.1}" y="{y0:.1}" width="{plot_w:.1}" height="{plot_h:.1}" fill="none" stroke="#999"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">task-hours ÷ reactive limit (worst)</text><text transform="translate({:.1},{:.1}) rotate(-90)" font-size="10" text-anchor="middle">points vs reactive limit</text>"##,
        x0 + plot_w / 2.0,
        y0 + plot_h + 26.0,
        left + 10.0,
        y0 + plot_h / 2.0
    );
    // KEDA over its queueLengths and the fixed fleets over their sizes: a line each, in that order, each point
    // labelled with its number.
    let series = |number_of: fn(Mark) -> Option<u32>| {
        let mut points: Vec<(u32, &RobustRow)> = rows
            .iter()
            .filter_map(|r| number_of(Mark::of(&r.policy)).map(|n| (n, *r)))
            .collect();
        points.sort_by_key(|(n, _)| *n);
        points
    };
    for (points, colour, dash) in [
        (
            series(|m| match m {
                Mark::Keda(q) => Some(q),
                _ => None,
            }),
            KEDA,
            "",
        ),
        (
            series(|m| match m {
                Mark::Fixed(n) => Some(n),
                _ => None,
            }),
            FIXED,
            r#" stroke-dasharray="3,2""#,
        ),
    ] {
        if points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|(_, r)| {
                    let (x, y) = at(r);
                    format!("{x:.1},{y:.1}")
                })
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.2"{dash}/>"#,
                path.join(" ")
            );
        }
        for (n, r) in &points {
            let (x, y) = at(r);
            let _ = writeln!(
                out,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="9" fill="{colour}">{n}</text>"#,
                x + 3.0,
                y - 3.0
            );
        }
    }
    // Ours last, over the others; its latency-first point a larger ring around it where the two coincide.
    let mut drawn: Vec<&RobustRow> = rows.to_vec();
    drawn.sort_by_key(|r| Mark::of(&r.policy) == Mark::Ours);
    for r in drawn {
        let (x, y) = at(r);
        let shape = match Mark::of(&r.policy) {
            Mark::Ours => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{OURS}"/>"#),
            Mark::OursLatencyFirst => format!(
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="7" fill="white" stroke="{OURS}" stroke-width="1.5"/>"#
            ),
            Mark::Copilot => format!(
                r#"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="{PEER}"/>"#,
                x - 3.5,
                y - 3.5
            ),
            Mark::Cdk => format!(
                r#"<polygon points="{x:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="{PEER}"/>"#,
                y - 4.5,
                x - 4.5,
                y + 4.0,
                x + 4.5,
                y + 4.0
            ),
            Mark::Blueprint => format!(
                r#"<polygon points="{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}" fill="none" stroke="{PEER}" stroke-width="1.5"/>"#,
                y - 5.0,
                x + 5.0,
                y + 5.0,
                x - 5.0
            ),
            Mark::ReactiveLimit => format!(
                r#"<path d="M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}" stroke="{LIMIT}" stroke-width="2"/>"#,
                x - 4.0,
                y - 4.0,
                x + 4.0,
                y + 4.0,
                x - 4.0,
                y + 4.0,
                x + 4.0,
                y - 4.0
            ),
            Mark::Oracle => format!(
                r#"<path d="M{:.1},{y:.1} L{:.1},{y:.1} M{x:.1},{:.1} L{x:.1},{:.1}" stroke="{LIMIT}" stroke-width="1.5"/>"#,
                x - 4.5,
                x + 4.5,
                y - 4.5,
                y + 4.5
            ),
            Mark::Keda(_) | Mark::Fixed(_) | Mark::Other => continue,
        };
        out.push_str(&shape);
        out.push('\n');
    }
}

/// The chart's title for a part of the suite.
pub fn title(part: crate::suite::Part) -> String {
    format!(
        "The workload suite, {} part: share within the promise and task-hours against the reactive limit (worst case)",
        part.name()
    )
}

/// Draws a legend's mark centred at an x.
type LegendMark = fn(f64) -> String;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Ours' rows as the suite's table prints them ([`crate::suite::table_row`]), one a line: the chart carries them in
/// its `<desc>`, so a test can hold the chart to the table in docs/simulator.md (both come from one run of the suite
/// example; a chart left from an older run shows as a difference).
pub fn drawn_rows_of_ours(rows: &[RobustRow]) -> String {
    let ours = [crate::PolicyKind::Ours, crate::PolicyKind::OursLatencyFirst].map(|p| p.name());
    let mut out = String::from("\n");
    for r in rows.iter().filter(|r| ours.contains(&r.policy)) {
        out.push_str(&crate::suite::table_row(r));
        out.push('\n');
    }
    out
}

/// The chart of `rows` (a suite part's, every policy of [`crate::suite::policies`]), one panel per workload in the
/// rows' order, under `title`.
pub fn svg(title: &str, rows: &[RobustRow]) -> String {
    let mut workloads: Vec<&str> = Vec::new();
    for r in rows {
        if !workloads.contains(&r.scenario.as_str()) {
            workloads.push(&r.scenario);
        }
    }
    let panels = workloads.len().max(1);
    let lines = panels.div_ceil(COLUMNS);
    let width = PANEL_W * COLUMNS as f64;
    let height = HEADER + PANEL_H * lines as f64;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<desc>{}</desc>
<text x="10" y="20" font-size="13" font-weight="bold">{}</text>
"#,
        escape(&drawn_rows_of_ours(rows)),
        escape(title)
    );
    // The legend: each mark, then its label, left to right.
    let legend: [(LegendMark, &str); 10] = [
        (
            |x| format!(r#"<circle cx="{x:.1}" cy="42" r="4" fill="{OURS}"/>"#),
            "ours",
        ),
        (
            |x| {
                format!(
                    r#"<circle cx="{x:.1}" cy="42" r="7" fill="white" stroke="{OURS}" stroke-width="1.5"/>"#
                )
            },
            "ours latency first",
        ),
        (
            |x| {
                format!(
                    r#"<line x1="{:.1}" y1="42" x2="{:.1}" y2="42" stroke="{KEDA}"/><circle cx="{x:.1}" cy="42" r="2.5" fill="{KEDA}"/>"#,
                    x - 8.0,
                    x + 8.0
                )
            },
            "KEDA (queueLength)",
        ),
        (
            |x| {
                format!(
                    r#"<line x1="{:.1}" y1="42" x2="{:.1}" y2="42" stroke="{FIXED}" stroke-dasharray="3,2"/><circle cx="{x:.1}" cy="42" r="2.5" fill="{FIXED}"/>"#,
                    x - 8.0,
                    x + 8.0
                )
            },
            "fixed fleet (tasks)",
        ),
        (
            |x| {
                format!(
                    r#"<rect x="{:.1}" y="38.5" width="7" height="7" fill="{PEER}"/>"#,
                    x - 3.5
                )
            },
            "copilot",
        ),
        (
            |x| {
                format!(
                    r#"<polygon points="{x:.1},37.5 {:.1},46 {:.1},46" fill="{PEER}"/>"#,
                    x - 4.5,
                    x + 4.5
                )
            },
            "cdk",
        ),
        (
            |x| {
                format!(
                    r#"<polygon points="{x:.1},37 {:.1},42 {x:.1},47 {:.1},42" fill="none" stroke="{PEER}" stroke-width="1.5"/>"#,
                    x + 5.0,
                    x - 5.0
                )
            },
            "blueprint",
        ),
        (
            |x| {
                format!(
                    r#"<path d="M{:.1},38 L{:.1},46 M{:.1},46 L{:.1},38" stroke="{LIMIT}" stroke-width="2"/>"#,
                    x - 4.0,
                    x + 4.0,
                    x - 4.0,
                    x + 4.0
                )
            },
            "reactive limit",
        ),
        (
            |x| {
                format!(
                    r#"<path d="M{:.1},42 L{:.1},42 M{x:.1},37.5 L{x:.1},46.5" stroke="{LIMIT}" stroke-width="1.5"/>"#,
                    x - 4.5,
                    x + 4.5
                )
            },
            "oracle",
        ),
        (
            |x| {
                format!(
                    r#"<rect x="{:.1}" y="37" width="12" height="10" fill="{GOAL}" stroke="{GRID}"/>"#,
                    x - 6.0
                )
            },
            "goal",
        ),
    ];
    let mut x = 18.0;
    for (mark, label) in legend {
        out.push_str(&mark(x));
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="46" font-size="11">{label}</text>"#,
            x + 11.0
        );
        // About 6.2 px a character at 11 px.
        x += 11.0 + label.chars().count() as f64 * 6.2 + 22.0;
    }
    for (i, name) in workloads.iter().enumerate() {
        let of: Vec<&RobustRow> = rows.iter().filter(|r| r.scenario == *name).collect();
        let left = PANEL_W * (i % COLUMNS) as f64;
        let top = HEADER + PANEL_H * (i / COLUMNS) as f64;
        panel(&mut out, &of, left, top);
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scenario: &str, policy: &str, share: f64, hours: f64) -> RobustRow {
        // Against a reactive limit at 99%.
        RobustRow {
            scenario: scenario.into(),
            policy: policy.into(),
            worst_share: share,
            median_share: share,
            worst_vs_oracle: 0.0,
            worst_hours_vs_oracle: hours,
            median_hours_vs_oracle: hours,
            worst_under: "default".into(),
            worst_vs_reactive: share - 0.99,
            worst_hours_vs_reactive: hours,
            median_hours_vs_reactive: hours,
            worst_actions_per_day: 0.0,
            worst_flaps_per_day: 0.0,
        }
    }

    #[test]
    fn a_panel_per_workload_with_every_policy_marked() {
        let rows = vec![
            row("a", "ours", 0.98, 1.4),
            row("a", "ours-latency-first", 0.99, 2.0),
            row("a", "keda:1", 0.99, 3.0),
            row("a", "keda:5", 0.95, 1.2),
            row("a", "reactive-limit", 0.99, 1.0),
            row("b", "ours", 0.5, 20.0),
            row("b", "oracle", 1.0, 0.9),
        ];
        let svg = svg("suite", &rows);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(">a</text>") && svg.contains(">b</text>"));
        // KEDA's line through its two queueLengths, each labelled.
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains(">5</text>"));
        // Beyond the axis: drawn at its edge, not off the chart.
        assert!(x_of(20.0, 100.0) <= 100.0 && x_of(0.1, 100.0) >= 0.0);
        // The axis spans every point, the goal's -1 and +1 at least, in round steps.
        let mut near = rows.iter().take(5).cloned().collect::<Vec<_>>();
        near[3].worst_vs_reactive = -0.043;
        assert_eq!(points_axis(&near.iter().collect::<Vec<_>>()), (-5.0, 1.0));
    }
}
