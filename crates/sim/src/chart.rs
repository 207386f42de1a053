//! An SVG chart of runs, one panel per run, each with three plots on a shared, labelled time axis:
//! - **wait**: the longest wait of the messages whose processing started in each period, against the promise
//!   (dashed), so a reader sees when and by how much the promise broke;
//! - **backlog**: visible plus in flight;
//! - **tasks** alive against the **desired** count (dashed).
//!
//! Counts (backlog, tasks, desired) are steps: each point is the state at the end of its period, drawn across that
//! period, so a count never seems to pass through values it never had.
//!
//! Each plot has its own scale (never two units on one axis), and every scale reaches past the highest value, so no
//! line is clipped. The time axis zooms to where things happen (a burst after two idle hours shows its ten minutes,
//! not the idle hours) and says so in its label. Plain SVG text, no plotting dependency.

use std::fmt::Write;

use crate::report::{Report, Timeline, TimelinePoint};

/// One panel: a title over a timeline.
#[derive(Debug, Clone, Copy)]
pub struct Panel<'a> {
    /// The bold line above the plots.
    pub title: &'a str,
    /// The points, one per period.
    pub timeline: &'a Timeline,
    /// Seconds one period stands for (60 in simulations).
    pub period_secs: f64,
    /// The latency promise, seconds (the dashed line of the wait plot).
    pub promise_secs: f64,
}

const WIDTH: f64 = 960.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const LEGEND: f64 = 34.0;
const TITLE: f64 = 24.0;
const PLOT: f64 = 78.0;
const GAP: f64 = 10.0;
const AXIS: f64 = 34.0;
const PANEL: f64 = TITLE + 3.0 * PLOT + 2.0 * GAP + AXIS;

const WAIT: &str = "#d62728";
const BACKLOG: &str = "#1f77b4";
const TASKS: &str = "#ff7f0e";
const DESIRED: &str = "#555555";
const GRID: &str = "#e5e5e5";

/// The chart of `reports` (normally one scenario, several policies) as an SVG document.
pub fn svg(reports: &[Report]) -> String {
    let titles: Vec<String> = reports
        .iter()
        .map(|r| {
            format!(
                "{} / {}: {:.2}% within the {} s promise, p99 {:.0} s, {:.2}x the lower-bound cost",
                r.scenario,
                r.policy,
                r.within_promise * 100.0,
                r.latency_secs,
                r.p99_secs,
                r.cost_vs_lower_bound
            )
        })
        .collect();
    let panels: Vec<Panel<'_>> = reports
        .iter()
        .zip(&titles)
        .map(|(r, title)| Panel {
            title,
            timeline: &r.timeline,
            period_secs: 60.0,
            promise_secs: r.latency_secs,
        })
        .collect();
    svg_panels(&panels)
}

/// The periods worth showing: from a little before the first activity (a backlog, a change of the desired count,
/// tasks apart from desired) to a little after the last, or everything when activity spans most of the run.
pub fn window(points: &[TimelinePoint]) -> (usize, usize) {
    let n = points.len();
    let active = |i: usize| {
        let p = &points[i];
        let changed =
            i > 0 && (points[i - 1].desired != p.desired || points[i - 1].tasks != p.tasks);
        p.visible + p.in_flight > 0 || p.tasks != p.desired || changed
    };
    let (Some(first), Some(last)) = (
        (0..n).find(|&i| active(i)),
        (0..n).rev().find(|&i| active(i)),
    ) else {
        return (0, n);
    };
    let span = last + 1 - first;
    if span * 10 >= n * 6 {
        return (0, n);
    }
    let margin = (span / 5).max(3);
    (first.saturating_sub(margin), (last + 1 + margin).min(n))
}

/// A round step for about `target` ticks over `span`.
fn nice_step(span: f64, target: f64) -> f64 {
    let raw = (span / target).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// The top of a scale: a round number at or above every value (and at least 1).
fn nice_max(max: f64) -> f64 {
    let step = nice_step(max.max(1.0), 4.0);
    ((max.max(1.0) / step).ceil() * step).max(step)
}

fn polyline(out: &mut String, points: &[(f64, f64)], color: &str, dashed: bool) {
    if points.is_empty() {
        return;
    }
    let pts: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let dash = if dashed {
        r#" stroke-dasharray="5 3""#
    } else {
        ""
    };
    let _ = writeln!(
        out,
        r#"<polyline fill="none" stroke="{color}" stroke-width="1.6"{dash} points="{}"/>"#,
        pts.join(" ")
    );
}

/// The step line of `values` (one per period, `x0..x1` each): flat across its period, vertical between periods.
fn steps(values: impl Iterator<Item = (f64, f64, f64)>) -> Vec<(f64, f64)> {
    values.flat_map(|(x0, x1, y)| [(x0, y), (x1, y)]).collect()
}

/// One plot: frame, horizontal grid and labels for `0..top` (`unit` after the top label).
fn frame(out: &mut String, y: f64, top: f64, unit: &str, plot_w: f64) {
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{y}" width="{plot_w}" height="{PLOT}" fill="none" stroke="#bbbbbb"/>"##
    );
    for k in 0..=2 {
        let v = top * f64::from(k) / 2.0;
        let yy = y + PLOT - PLOT * f64::from(k) / 2.0;
        if k == 1 {
            let _ = writeln!(
                out,
                r#"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{GRID}"/>"#,
                LEFT + plot_w
            );
        }
        let number = if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        };
        let label = if k == 2 {
            format!("{number} {unit}")
        } else {
            number
        };
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{label}</text>"#,
            LEFT - 5.0,
            yy + 4.0
        );
    }
}

/// The scenario charts of docs/simulator.md, as (file under docs/, SVG): `idle-then-burst` under every policy
/// with a timeline (the oracle and the reactive limit are schedules, with none), and a day of `diurnal` under
/// ours. The example `scenario_charts` writes them; a test checks the files are these.
pub fn documented_charts() -> Vec<(&'static str, String)> {
    use crate::{PolicyKind, SimSettings, scenario, simulate};
    let settings = SimSettings::default();
    let burst = scenario("idle-then-burst").expect("a shipped scenario");
    let reports: Vec<Report> = PolicyKind::ALL
        .iter()
        .map(|p| simulate(&burst, *p, &settings))
        .filter(|r| !r.timeline.0.is_empty())
        .collect();
    let diurnal = scenario("diurnal").expect("a shipped scenario");
    vec![
        ("simulation-idle-then-burst.svg", svg(&reports)),
        (
            "simulation-diurnal-ours.svg",
            svg(&[simulate(&diurnal, PolicyKind::Ours, &settings)]),
        ),
    ]
}

/// The chart of any timelines, one panel each (the simulator's runs, the local run's record).
pub fn svg_panels(panels: &[Panel<'_>]) -> String {
    let height = LEGEND + PANEL * panels.len() as f64 + 10.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let legend = [
        (WAIT, false, "longest wait of the messages started (s)"),
        (WAIT, true, "promise"),
        (BACKLOG, false, "backlog (visible + in flight)"),
        (TASKS, false, "tasks"),
        (DESIRED, true, "desired"),
    ];
    let mut x = LEFT;
    for (color, dashed, label) in legend {
        let dash = if dashed {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<line x1="{x}" y1="16" x2="{}" y2="16" stroke="{color}" stroke-width="3"{dash}/><text x="{}" y="20">{label}</text>"#,
            x + 20.0,
            x + 25.0
        );
        x += 35.0 + 6.6 * label.len() as f64;
    }
    for (i, panel) in panels.iter().enumerate() {
        let points = &panel.timeline.0;
        let y0 = LEGEND + PANEL * i as f64;
        let (from, to) = window(points);
        let shown = &points[from..to];
        let periods = shown.len().max(1) as f64;
        // A point is the state at the end of its period; its waits belong to the period itself.
        let xs = |k: usize| LEFT + plot_w * (k as f64 + 1.0) / periods;
        let xw = |k: usize| LEFT + plot_w * (k as f64 + 0.5) / periods;
        let x0 = |k: usize| LEFT + plot_w * k as f64 / periods;
        let _ = writeln!(
            out,
            r#"<text x="{LEFT}" y="{:.1}" font-weight="bold">{}</text>"#,
            y0 + 16.0,
            panel.title
        );
        let plots_top = y0 + TITLE;
        let ys: [f64; 3] = [0.0, 1.0, 2.0].map(|k| plots_top + k * (PLOT + GAP));

        // Time axis: round ticks in minutes (or seconds for short periods), a gridline each, on every plot.
        let (unit_secs, unit) = if panel.period_secs >= 60.0 {
            (60.0, "min")
        } else {
            (1.0, "s")
        };
        let start_t = from as f64 * panel.period_secs / unit_secs;
        let span_t = periods * panel.period_secs / unit_secs;
        let step = nice_step(span_t, 8.0);
        let bottom = ys[2] + PLOT;
        let mut tick = (start_t / step).ceil() * step;
        while tick <= start_t + span_t + 1e-9 {
            let tx = LEFT + plot_w * (tick - start_t) / span_t;
            let _ = writeln!(
                out,
                r#"<line x1="{tx:.1}" y1="{plots_top:.1}" x2="{tx:.1}" y2="{bottom:.1}" stroke="{GRID}"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" font-size="11">{tick:.0}</text>"#,
                bottom + 14.0
            );
            tick += step;
        }
        let zoom = if from > 0 || to < points.len() {
            format!(
                " (zoomed to {:.0}-{:.0} of {:.0} {unit})",
                start_t,
                start_t + span_t,
                points.len() as f64 * panel.period_secs / unit_secs
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">time, {unit}{zoom}</text>"#,
            LEFT + plot_w / 2.0,
            bottom + 28.0
        );

        // Wait against the promise.
        let max_wait = shown
            .iter()
            .filter_map(|p| p.max_wait_secs)
            .fold(0.0, f64::max);
        let wait_top = nice_max(max_wait.max(panel.promise_secs) * 1.05);
        frame(&mut out, ys[0], wait_top, "s", plot_w);
        let wy = |v: f64| ys[0] + PLOT - PLOT * v / wait_top;
        polyline(
            &mut out,
            &[
                (LEFT, wy(panel.promise_secs)),
                (LEFT + plot_w, wy(panel.promise_secs)),
            ],
            WAIT,
            true,
        );
        // Periods with no start are gaps, not zeros.
        let mut run: Vec<(f64, f64)> = Vec::new();
        for (k, p) in shown.iter().enumerate() {
            match p.max_wait_secs {
                Some(w) => run.push((xw(k), wy(w))),
                None => polyline(&mut out, &std::mem::take(&mut run), WAIT, false),
            }
        }
        polyline(&mut out, &run, WAIT, false);
        if shown.iter().all(|p| p.max_wait_secs.is_none()) {
            let _ = writeln!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#888888">no message started in this window</text>"##,
                LEFT + 8.0,
                ys[0] + 16.0
            );
        }

        // Backlog.
        let max_backlog = shown
            .iter()
            .map(|p| (p.visible + p.in_flight) as f64)
            .fold(0.0, f64::max);
        let backlog_top = nice_max(max_backlog * 1.05);
        frame(&mut out, ys[1], backlog_top, "msgs", plot_w);
        let by = |v: f64| ys[1] + PLOT - PLOT * v / backlog_top;
        let pts = steps(
            shown
                .iter()
                .enumerate()
                .map(|(k, p)| (x0(k), xs(k), by((p.visible + p.in_flight) as f64))),
        );
        polyline(&mut out, &pts, BACKLOG, false);

        // Tasks against desired.
        let max_tasks = shown
            .iter()
            .map(|p| f64::from(p.tasks.max(p.desired)))
            .fold(0.0, f64::max);
        let tasks_top = nice_max(max_tasks * 1.05);
        frame(&mut out, ys[2], tasks_top, "tasks", plot_w);
        let ty = |v: f64| ys[2] + PLOT - PLOT * v / tasks_top;
        let desired = steps(
            shown
                .iter()
                .enumerate()
                .map(|(k, p)| (x0(k), xs(k), ty(f64::from(p.desired)))),
        );
        let tasks = steps(
            shown
                .iter()
                .enumerate()
                .map(|(k, p)| (x0(k), xs(k), ty(f64::from(p.tasks)))),
        );
        polyline(&mut out, &tasks, TASKS, false);
        polyline(&mut out, &desired, DESIRED, true);
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PolicyKind, SimSettings, scenario, simulate};

    #[test]
    fn draws_one_panel_per_report_with_its_plots() {
        let s = scenario("blueprint").expect("shipped").lasting(1800);
        let reports: Vec<_> = [PolicyKind::Ours, PolicyKind::Cdk]
            .iter()
            .map(|p| simulate(&s, *p, &SimSettings::default()))
            .collect();
        let chart = svg(&reports);
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>\n"));
        assert!(chart.contains("blueprint / ours") && chart.contains("blueprint / cdk"));
        // Each panel: the promise, at least one wait line, the backlog, tasks and desired.
        assert!(chart.matches("<polyline").count() >= 2 * 5);
        assert!(chart.contains("time, min"));
    }

    #[test]
    fn zooms_to_the_burst_and_never_clips() {
        let s = scenario("idle-then-burst").expect("shipped");
        let r = simulate(&s, PolicyKind::Ours, &SimSettings::default());
        let (from, to) = window(&r.timeline.0);
        // The burst arrives at minute 120 and is done within minutes; the window shows it, not the idle hours.
        assert!(
            from > 60 && from <= 120 && to > 120 && to - from < 60,
            "{from}..{to}"
        );
        let chart = svg(&[r]);
        assert!(chart.contains("zoomed to"));
        // Every point lies inside the drawing.
        for pts in chart.split("points=\"").skip(1) {
            for pair in pts.split('"').next().unwrap_or("").split_whitespace() {
                let (x, y) = pair.split_once(',').expect("x,y");
                let (x, y): (f64, f64) = (x.parse().expect("x"), y.parse().expect("y"));
                assert!((LEFT..=WIDTH - RIGHT).contains(&x), "{x}");
                assert!(y >= LEGEND + TITLE - 0.01, "{y}");
            }
        }
    }

    #[test]
    fn round_scales() {
        assert_eq!(nice_max(587.0), 600.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_step(180.0, 8.0), 50.0);
        assert_eq!(nice_step(10.0, 8.0), 2.0);
    }
}
