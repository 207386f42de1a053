//! An SVG chart of runs: one panel per report, minute by minute: backlog (visible + in flight, left axis), tasks
//! alive, desired count and target (right axis). Plain SVG text, no plotting dependency.

use std::fmt::Write;

use crate::report::{Report, Timeline};

/// One panel: a title over a timeline, and what one timeline point is (`min` in simulations).
#[derive(Debug, Clone, Copy)]
pub struct Panel<'a> {
    /// The bold line above the plot.
    pub title: &'a str,
    /// The points, one per period.
    pub timeline: &'a Timeline,
    /// The unit of the x axis after the period count, e.g. `min`.
    pub period_label: &'a str,
}

const WIDTH: f64 = 960.0;
const PANEL: f64 = 190.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 60.0;
const TOP: f64 = 40.0;

fn polyline(out: &mut String, points: &[(f64, f64)], color: &str, dash: &str) {
    let pts: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let _ = writeln!(
        out,
        r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" {dash} points="{}"/>"#,
        pts.join(" ")
    );
}

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
            period_label: "min",
        })
        .collect();
    svg_panels(&panels)
}

/// The chart of any timelines, one panel each (the simulator's runs, the local run's record).
pub fn svg_panels(reports: &[Panel<'_>]) -> String {
    let height = TOP + PANEL * reports.len() as f64 + 20.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let legend = [
        ("#1f77b4", "backlog (visible + in flight), left"),
        ("#ff7f0e", "tasks, right"),
        ("#999999", "desired, right"),
        ("#2ca02c", "target BPI, right"),
    ];
    for (i, (color, label)) in legend.iter().enumerate() {
        let x = LEFT + i as f64 * 240.0;
        let _ = writeln!(
            out,
            r#"<line x1="{x}" y1="16" x2="{}" y2="16" stroke="{color}" stroke-width="3"/><text x="{}" y="20">{label}</text>"#,
            x + 18.0,
            x + 24.0
        );
    }
    let max_backlog = reports
        .iter()
        .flat_map(|r| {
            r.timeline
                .0
                .iter()
                .map(|p| (p.visible + p.in_flight) as f64)
        })
        .fold(1.0, f64::max);
    let max_right = reports
        .iter()
        .flat_map(|r| {
            r.timeline
                .0
                .iter()
                .map(|p| f64::from(p.tasks.max(p.desired)).max(p.target))
        })
        .fold(1.0, f64::max);
    let plot_w = WIDTH - LEFT - RIGHT;
    for (i, r) in reports.iter().enumerate() {
        let y0 = TOP + PANEL * i as f64;
        let plot_h = PANEL - 45.0;
        let base = y0 + 25.0 + plot_h;
        let minutes = r.timeline.0.len().max(1) as f64;
        let x = |m: usize| LEFT + plot_w * m as f64 / minutes;
        let _ = writeln!(
            out,
            r#"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"#,
            y0 + 15.0,
            r.title
        );
        let _ = writeln!(
            out,
            r##"<rect x="{LEFT}" y="{}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#cccccc"/>"##,
            y0 + 25.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{max_backlog:.0}</text><text x="{}" y="{base}" text-anchor="end">0</text>"#,
            LEFT - 4.0,
            y0 + 35.0,
            LEFT - 4.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{max_right:.0}</text><text x="{}" y="{base}">0</text>"#,
            WIDTH - RIGHT + 4.0,
            y0 + 35.0,
            WIDTH - RIGHT + 4.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{:.0} {}</text>"#,
            WIDTH - RIGHT,
            base + 14.0,
            minutes,
            r.period_label
        );
        let scale_l = |v: f64| base - plot_h * v / max_backlog;
        let scale_r = |v: f64| base - plot_h * v / max_right;
        let pts = |f: &dyn Fn(&crate::report::TimelinePoint) -> f64,
                   scale: &dyn Fn(f64) -> f64|
         -> Vec<(f64, f64)> {
            r.timeline
                .0
                .iter()
                .enumerate()
                .map(|(m, p)| (x(m), scale(f(p))))
                .collect()
        };
        polyline(
            &mut out,
            &pts(&|p| (p.visible + p.in_flight) as f64, &scale_l),
            "#1f77b4",
            "",
        );
        polyline(
            &mut out,
            &pts(&|p| f64::from(p.desired), &scale_r),
            "#999999",
            r#"stroke-dasharray="4 3""#,
        );
        polyline(
            &mut out,
            &pts(&|p| f64::from(p.tasks), &scale_r),
            "#ff7f0e",
            "",
        );
        if r.timeline.0.iter().any(|p| p.target > 0.0) {
            polyline(&mut out, &pts(&|p| p.target, &scale_r), "#2ca02c", "");
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PolicyKind, SimSettings, scenario, simulate};

    #[test]
    fn draws_one_panel_per_report_with_its_lines() {
        let s = scenario("blueprint").expect("shipped").lasting(1800);
        let reports: Vec<_> = [PolicyKind::Ours, PolicyKind::Cdk]
            .iter()
            .map(|p| simulate(&s, *p, &SimSettings::default()))
            .collect();
        let chart = svg(&reports);
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>\n"));
        assert!(chart.contains("blueprint / ours") && chart.contains("blueprint / cdk"));
        // ours: backlog, desired, tasks, target; cdk has no target line.
        assert_eq!(chart.matches("<polyline").count(), 4 + 3);
    }
}
