//! `bpi local-run` against the emulator: real worker processes, the producer and the updater in-process, the local
//! scaler; it must process everything, stop every worker cleanly, write its chart, and leave no process behind,
//! whether it ends on its duration or on Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bpi_aws::fixtures::{create_queue_with_dlq, create_service};
use bpi_aws::{AwsClients, local_emulator_config};

/// Processes whose environment holds `needle` (the test's unique queue URL): workers left behind.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
        let environ = entry.path().join("environ");
        if let Ok(bytes) = std::fs::read(&environ)
            && String::from_utf8_lossy(&bytes).contains(needle)
        {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

struct Setup {
    queue_url: String,
    env: Vec<(&'static str, String)>,
}

async fn setup(prefix: &str) -> Setup {
    let clients = AwsClients::new(&local_emulator_config(&bpi_testkit::emulator().endpoint).await);
    let queue_name = bpi_testkit::unique_name(prefix);
    let (cluster, service) = (
        bpi_testkit::unique_name("cluster"),
        bpi_testkit::unique_name("service"),
    );
    let q = create_queue_with_dlq(&clients.sqs, &queue_name, 30, 3).await;
    create_service(&clients, &cluster, &service, 1).await;
    let env = vec![
        ("CLUSTER_NAME", cluster),
        ("SERVICE_NAME", service),
        ("QUEUE_NAME", queue_name),
        ("DESIRED_LATENCY_SECS", "10".to_string()),
        ("MIN_CAPACITY", "1".to_string()),
        ("MAX_CAPACITY", "4".to_string()),
        ("MESSAGE_COUNT", "5".to_string()),
        ("MESSAGE_DURATION_SECS", "0.2".to_string()),
        ("LOG_FORMAT", "text".to_string()),
        ("RUST_LOG", "warn".to_string()),
    ];
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::support::register_scalable_target_of(&clients, &pairs).await;
    Setup {
        queue_url: q.queue.url().to_string(),
        env,
    }
}

fn local_run(s: &Setup, dir: &Path, duration_secs: u64) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bpi"));
    cmd.args(["local-run", "--queue-url", &s.queue_url])
        .args(["--duration-secs", &duration_secs.to_string()])
        .args(["--period-secs", "2", "--produce-every-secs", "3"])
        .args(["--updater-every-secs", "6", "--status-every-secs", "10"])
        .args(["--stop-grace-secs", "20"])
        .arg("--worker-bin")
        .arg(bpi_testkit::workspace_binary("queue-processor"))
        .arg("--chart")
        .arg(dir.join("chart.svg"))
        .arg("--json")
        .arg(dir.join("record.json"))
        .env_clear()
        .envs(bpi_testkit::emulator().child_env())
        .envs(s.env.iter().map(|(k, v)| (*k, v.as_str())));
    cmd
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(bpi_testkit::unique_name(name));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_run_processes_everything_and_stops_every_worker_cleanly() {
    let s = setup("local").await;
    let dir = temp_dir("local-run");
    let out = local_run(&s, &dir, 24).output().expect("run");
    // About 8 invocations of 5 (at least 4 on a loaded machine).
    let r = assert_processed_everything_and_drained(&s, &dir, &out, 20);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The first burst asks for more tasks than the one running (5 messages at 1 a task): the fast path changes
    // the desired count on the reading itself, well within the 30 s goal.
    let reactions: Vec<f64> = r["reactions_secs"]
        .as_array()
        .expect("reactions")
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    assert!(
        !reactions.is_empty() && reactions.iter().all(|s| *s <= 30.0),
        "{r}"
    );
    assert!(stdout.contains("reaction   "), "{stdout}");
    assert!(stdout.contains("within the 10 s promise"), "{stdout}");
    assert!(
        stdout.contains("queue      "),
        "the live status view: {stdout}"
    );
    let chart = std::fs::read_to_string(dir.join("chart.svg")).expect("chart");
    assert!(chart.starts_with("<svg") && chart.contains("local run:"));
    assert!(
        processes_with(&s.queue_url).is_empty(),
        "no worker left behind"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_everything_and_leaves_no_process() {
    let s = setup("local-int").await;
    let dir = temp_dir("local-run-int");
    let child = local_run(&s, &dir, 300)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Let it start workers and process.
    let deadline = Instant::now() + Duration::from_secs(60);
    while processes_with(&s.queue_url).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(6));
    assert!(!processes_with(&s.queue_url).is_empty(), "workers running");
    let sent = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("a pid")),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("Ctrl-C");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        sent.elapsed() < Duration::from_secs(25),
        "{:?}",
        sent.elapsed()
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopping (Ctrl-C)"));
    assert!(
        processes_with(&s.queue_url).is_empty(),
        "no worker left behind"
    );
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("record.json")).expect("json"))
            .expect("json");
    assert_eq!(r["left_in_flight"], 0, "{r}");
}

/// What every local run must show, whatever the work: at least `min_produced` messages produced and all of them
/// processed, nothing left or dead-lettered, every worker stopped by SIGTERM and exited 0, no worker left behind.
/// Returns the run's record.
fn assert_processed_everything_and_drained(
    s: &Setup,
    dir: &Path,
    out: &std::process::Output,
    min_produced: u64,
) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("record.json")).expect("json"))
            .expect("json");
    let produced = r["produced"].as_u64().expect("produced");
    assert!(produced >= min_produced, "{r}");
    assert!(r["processed"].as_u64() >= Some(produced), "{r}");
    assert_eq!(
        (
            r["left_visible"].as_u64(),
            r["left_in_flight"].as_u64(),
            r["dead_letters"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{r}"
    );
    let exits = r["exits"].as_array().expect("exits");
    assert_eq!(
        exits.len() as u64,
        r["workers_started"].as_u64().expect("n")
    );
    assert!(
        !exits.is_empty()
            && exits
                .iter()
                .all(|e| e["code"] == 0 && e["stop_secs"].is_u64()),
        "every worker stopped by SIGTERM and exited 0: {r}"
    );
    assert!(
        processes_with(&s.queue_url).is_empty(),
        "no worker left behind"
    );
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_run_with_a_python_http_application_processes_everything_and_drains() {
    let s = setup("local-http").await;
    let dir = temp_dir("local-run-http");
    let app = bpi_testkit::workspace_root().join("examples/python-worker/app.py");
    let out = local_run(&s, &dir, 15)
        .arg("--app")
        .arg(format!("python3 {}", app.display()))
        .args(["--app-health-path", "/health"])
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run");
    assert_processed_everything_and_drained(&s, &dir, &out, 10);
    // Each worker's application is stopped with it: none still listens.
    let apps = std::process::Command::new("pgrep")
        .args(["-f", &app.display().to_string()])
        .output()
        .expect("pgrep");
    assert!(
        apps.stdout.is_empty(),
        "applications left: {}",
        String::from_utf8_lossy(&apps.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_run_with_an_exec_script_processes_everything_and_drains() {
    let s = setup("local-exec").await;
    let dir = temp_dir("local-run-exec");
    let script = bpi_testkit::workspace_root().join("examples/python-worker/work.py");
    let out = local_run(&s, &dir, 15)
        .arg("--exec-command")
        .arg(serde_json::json!(["python3", script]).to_string())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run");
    assert_processed_everything_and_drained(&s, &dir, &out, 10);
}
