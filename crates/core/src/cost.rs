//! What the scaling set-up costs a month, per service, as the fleet grows: from the sampler's call counts
//! ([`FleetShape::calls_per_run`], which a test checks against the calls the sampler really makes) and the alarms of
//! core's own spec ([`scaling_spec`]), at list prices.
//!
//! Why it exists: the goal is a cost per service that falls as services share one sampler, and a claim
//! about cost is only as good as the counts under it. Every count here comes from the code; every price is quoted
//! with its source, and the ones only a third party reads off the pricing page are marked so.

use serde::Serialize;

use crate::fleet::{FleetShape, ops};
use crate::policy::{PolicySettings, ScalingSpec, scaling_spec};

/// Hours in AWS's billing month.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// List prices, us-east-1 (`../shared/reference/aws-behaviour.md`, "Costs to state"; check the Region).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prices {
    /// Lambda arm64, per GB-second (AWS Lambda pricing).
    pub lambda_gb_second: f64,
    /// Lambda, per request.
    pub lambda_request: f64,
    /// PutMetricData, per call (CloudWatch pricing: $0.01 per 1,000 requests).
    pub put_metric_data_call: f64,
    /// GetMetricData, per metric requested (CloudWatch pricing: $0.01 per 1,000 metrics requested).
    pub get_metric_data_metric: f64,
    /// A custom metric, per month (first 10,000 metrics tier).
    pub custom_metric_month: f64,
    /// A standard-resolution alarm, per metric it reads, per month. Each metric of a metric-math alarm counts: a
    /// third-party reading of the pricing page, *unverified*.
    pub alarm_metric_standard_month: f64,
    /// A high-resolution alarm (period under 60 s), per metric, per month.
    pub alarm_metric_high_month: f64,
    /// SQS, per request after the first million a month (GetQueueAttributes included).
    pub sqs_request: f64,
    /// A CloudWatch dashboard, per month (beyond the first three of an account).
    pub dashboard_month: f64,
}

/// us-east-1 list prices.
pub const US_EAST_1: Prices = Prices {
    lambda_gb_second: 0.000_013_333_4,
    lambda_request: 0.20 / 1e6,
    put_metric_data_call: 0.01 / 1000.0,
    get_metric_data_metric: 0.01 / 1000.0,
    custom_metric_month: 0.30,
    alarm_metric_standard_month: 0.10,
    alarm_metric_high_month: 0.30,
    sqs_request: 0.40 / 1e6,
    dashboard_month: 3.00,
};

/// Alarms AWS creates for each target tracking policy: at least two, one to scale out and one to scale in
/// (Application Auto Scaling user guide, "Target tracking scaling policies"; `aws-behaviour.md`).
pub const ALARMS_PER_TARGET_TRACKING_POLICY: u32 = 2;

/// The alarm metrics a service's scaling set-up is billed for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AlarmMetrics {
    /// Alarms.
    pub alarms: u32,
    /// Metrics read by standard-resolution alarms.
    pub standard: u32,
    /// Metrics read by high-resolution alarms.
    pub high_resolution: u32,
}

/// The alarm metrics of `spec`: each step policy's alarm, and the alarms target tracking creates for each of its
/// policies (as many metrics as its customized metric reads, at its period's resolution).
pub fn alarm_metrics(spec: &ScalingSpec) -> AlarmMetrics {
    let mut bill = AlarmMetrics::default();
    let mut add = |alarms: u32, queries: &[crate::policy::MetricQuery]| {
        let stats: Vec<u32> = queries
            .iter()
            .filter_map(|q| q.metric_stat.as_ref())
            .map(|s| s.period.unwrap_or(60))
            .collect();
        let high = stats.iter().any(|p| *p < 60);
        let n = u32::try_from(stats.len()).unwrap_or(u32::MAX) * alarms;
        bill.alarms += alarms;
        if high {
            bill.high_resolution += n;
        } else {
            bill.standard += n;
        }
    };
    for step in [
        Some(&spec.fast_path),
        spec.idle.as_ref(),
        spec.scale_in.as_ref(),
        Some(&spec.backstop),
    ]
    .into_iter()
    .flatten()
    {
        add(1, &step.alarm.metrics);
    }
    for tt in [Some(&spec.target_tracking), spec.utilization.as_ref()]
        .into_iter()
        .flatten()
    {
        add(
            ALARMS_PER_TARGET_TRACKING_POLICY,
            &tt.target_tracking_scaling_policy_configuration
                .customized_metric_specification
                .metrics,
        );
    }
    bill
}

/// Custom metrics a service publishes beside the sampler's: the updater's ecsTargetBPI and ecsMPD, and the
/// workers' MsgProcessingDuration (the workers' app-not-ready metric only appears while an HTTP application is
/// not ready, and is left out).
pub const OTHER_METRICS_PER_SERVICE: u32 = 3;

/// Metrics the updater's hourly run requests per service: MsgProcessingDuration's Sum and SampleCount, the
/// Little's-law pair (in flight, deletions), and NumberOfMessagesSent (the forecaster's and the keep-alive's
/// history).
pub const UPDATER_METRICS_PER_HOUR: u32 = 5;

/// Metrics the keep-alive's own runs request an hour per service: NumberOfMessagesSent, every
/// [`crate::keep_alive::EVERY_MINUTES`] minutes.
pub const KEEP_ALIVE_METRICS_PER_HOUR: u32 = 60 / crate::keep_alive::EVERY_MINUTES;

/// Fargate, Linux on ARM64 (Graviton), us-east-1, per vCPU-hour (AWS Fargate pricing).
pub const FARGATE_ARM64_VCPU_HOUR_USD: f64 = 0.032_38;

/// The same, per GB-hour of memory.
pub const FARGATE_ARM64_GB_HOUR_USD: f64 = 0.003_56;

/// The default task's hour (0.25 vCPU, 0.5 GB, ARM64, us-east-1).
pub const DEFAULT_TASK_HOUR_USD: f64 =
    0.25 * FARGATE_ARM64_VCPU_HOUR_USD + 0.5 * FARGATE_ARM64_GB_HOUR_USD;

/// How the sampler function runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SamplerRun {
    /// Its memory, MB.
    pub memory_mb: u32,
    /// Seconds a run takes (the readings' span, plus the last reading).
    pub run_secs: f64,
}

/// One row of the cost table: dollars a month.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MonthlyCost {
    /// Services sharing the sampler.
    pub services: u32,
    /// Lambda compute (the sampler's GB-seconds).
    pub lambda_compute: f64,
    /// Lambda requests.
    pub lambda_requests: f64,
    /// PutMetricData calls.
    pub put_metric_data: f64,
    /// GetMetricData metrics (the sampler's recent durations, the updater's hourly reads, the keep-alive's).
    pub get_metric_data: f64,
    /// SQS GetQueueAttributes (before the account's free million).
    pub sqs_requests: f64,
    /// Custom metrics (the sampler's, the updater's, the workers').
    pub custom_metrics: f64,
    /// The alarms of core's spec, target tracking's own and the sampler-stopped alarm.
    pub alarms: f64,
    /// Dashboards: one per service for per-service stacks, one for a fleet.
    pub dashboards: f64,
    /// The whole.
    pub total: f64,
    /// The whole over the services.
    pub per_service: f64,
}

/// The monthly cost of `services` services (`clusters` clusters) sharing one sampler (`shared` true) or each with
/// its own (`shared` false), each with the set-up `settings` builds.
pub fn monthly_cost(
    services: u32,
    clusters: u32,
    shared: bool,
    settings: &PolicySettings,
    run: SamplerRun,
    prices: &Prices,
) -> MonthlyCost {
    let runs_per_month = HOURS_PER_MONTH * 60.0;
    let shape = |n: u32, c: u32| FleetShape {
        services: n,
        clusters: c,
        readings_per_run: 6,
        metrics_per_reading: 7,
    };
    // Samplers and the calls of each one's run.
    let (samplers, calls) = if shared {
        (1.0, shape(services, clusters).calls_per_run())
    } else {
        (f64::from(services), shape(1, 1).calls_per_run())
    };
    let per_month = |op: &str| samplers * calls.get(op) as f64 * runs_per_month;
    let n = f64::from(services);
    let lambda_compute = samplers
        * runs_per_month
        * run.run_secs
        * (f64::from(run.memory_mb) / 1024.0)
        * prices.lambda_gb_second;
    // The sampler's runs, and the updater's: its hourly run and its keep-alive runs (one function per service, or
    // one for a fleet).
    let updaters = if shared { 1.0 } else { n };
    let updater_runs = updaters * HOURS_PER_MONTH * f64::from(1 + KEEP_ALIVE_METRICS_PER_HOUR);
    let lambda_requests = (samplers * runs_per_month + updater_runs) * prices.lambda_request;
    let put_metric_data = per_month(ops::PUT_METRIC_DATA) * prices.put_metric_data_call;
    // GetMetricData: the sampler asks for 2 metrics (Sum, SampleCount) a service a run.
    let get_metric_data = (per_month(ops::GET_METRIC_DATA) * 2.0
        + n * f64::from(UPDATER_METRICS_PER_HOUR + KEEP_ALIVE_METRICS_PER_HOUR) * HOURS_PER_MONTH)
        * prices.get_metric_data_metric;
    let sqs_requests = per_month(ops::GET_QUEUE_ATTRIBUTES) * prices.sqs_request;
    let custom_metrics = n * f64::from(7 + OTHER_METRICS_PER_SERVICE) * prices.custom_metric_month;
    let a = alarm_metrics(&scaling_spec(settings, 12.0));
    // The spec's alarms, and the sampler-stopped alarm (one standard metric).
    let alarms = n
        * (f64::from(a.standard + 1) * prices.alarm_metric_standard_month
            + f64::from(a.high_resolution) * prices.alarm_metric_high_month);
    let dashboards = if shared { 1.0 } else { n } * prices.dashboard_month;
    let total = lambda_compute
        + lambda_requests
        + put_metric_data
        + get_metric_data
        + sqs_requests
        + custom_metrics
        + alarms
        + dashboards;
    MonthlyCost {
        services,
        lambda_compute,
        lambda_requests,
        put_metric_data,
        get_metric_data,
        sqs_requests,
        custom_metrics,
        alarms,
        dashboards,
        total,
        per_service: total / n.max(1.0),
    }
}

/// The cost table of docs/operate.md: per-service samplers against one shared sampler, for 1, 10, 100 and 500 services (on
/// one cluster per 50 services), with the memory and run time of each as `run_of` gives them.
pub fn cost_table(settings: &PolicySettings, run_of: impl Fn(u32) -> SamplerRun) -> String {
    let mut out = String::from(
        "| services | sampler | Lambda | PutMetricData | GetMetricData | SQS reads | custom metrics | alarms | dashboards | total a month | per service |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for services in [1u32, 10, 100, 500] {
        for shared in [false, true] {
            if services == 1 && shared {
                continue;
            }
            let c = monthly_cost(
                services,
                services.div_ceil(50),
                shared,
                settings,
                run_of(if shared { services } else { 1 }),
                &US_EAST_1,
            );
            out.push_str(&format!(
                "| {services} | {} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | **${:.2}** |\n",
                if shared { "one for all" } else { "one each" },
                c.lambda_compute + c.lambda_requests,
                c.put_metric_data,
                c.get_metric_data,
                c.sqs_requests,
                c.custom_metrics,
                c.alarms,
                c.dashboards,
                c.total,
                c.per_service,
            ));
        }
    }
    out
}

/// How the sampler runs in the documented cost table: 128 MB (the bench's peak is 19 MB at 100 services), and a run of the
/// readings' 50 s span plus its last reading: 1 s for one service, the bench's p50 against the emulator for 100
/// (3.6 s, rounded up to 4), and 10 s for 500 (*an estimate*: the emulator's reading grew faster than the fleet).
pub fn documented_sampler_run(services: u32) -> SamplerRun {
    SamplerRun {
        memory_mb: 128,
        run_secs: 50.0
            + match services {
                0..=10 => 1.0,
                11..=100 => 4.0,
                _ => 10.0,
            },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PolicySettings {
        PolicySettings {
            policy_name: "p".into(),
            ..PolicySettings::for_service("c", "s", "q")
        }
    }

    #[test]
    fn the_operate_page_holds_the_cost_table_as_generated() {
        let page = include_str!("../../../docs/operate.md");
        let table = cost_table(&settings(), documented_sampler_run);
        assert!(
            page.contains(&table),
            "docs/operate.md must hold the cost table exactly as generated (cargo run -p bpi-core --example cost_table):\n{table}"
        );
    }

    #[test]
    fn the_alarms_are_counted_from_the_spec() {
        let a = alarm_metrics(&scaling_spec(&settings(), 12.0));
        // Four step alarms, two target tracking policies of two alarms each.
        assert_eq!(a.alarms, 8);
        assert!(a.high_resolution >= 1, "the fast path reads 10-second data");
        let mut off = settings();
        off.utilization = None;
        off.idle_minutes = 0;
        off.scale_in_window_minutes = 0;
        assert_eq!(alarm_metrics(&scaling_spec(&off, 12.0)).alarms, 4);
    }

    #[test]
    fn sharing_the_sampler_cuts_its_share_and_nothing_else() {
        let run = SamplerRun {
            memory_mb: 128,
            run_secs: 51.0,
        };
        let each = monthly_cost(100, 2, false, &settings(), run, &US_EAST_1);
        let shared = monthly_cost(100, 2, true, &settings(), run, &US_EAST_1);
        assert!(shared.lambda_compute < each.lambda_compute / 50.0);
        assert!(shared.put_metric_data < each.put_metric_data / 50.0);
        assert_eq!(shared.custom_metrics, each.custom_metrics);
        assert_eq!(shared.alarms, each.alarms);
        // One sampler of 128 MB running 51 s every minute: 43,800 runs.
        let one = monthly_cost(1, 1, false, &settings(), run, &US_EAST_1);
        let expected = 43_800.0 * 51.0 * 0.125 * 0.000_013_333_4;
        assert!((one.lambda_compute - expected).abs() < 1e-9);
        // Six PutMetricData a minute: 262,800 calls.
        assert!((one.put_metric_data - 2.628).abs() < 1e-9);
    }
}
