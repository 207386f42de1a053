//! `deploy/emulator.sh` is safe to call again while the emulator runs: it answers at once with the same endpoint.
//! (It once hung here: the started moto server inherited the script's lock and held it for its whole life.)

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn start_again_returns_the_running_endpoint_at_once() {
    let running = bpi_testkit::emulator();
    if std::env::var(bpi_testkit::ENDPOINT_VAR).is_ok()
        && std::env::var("BPI_EMULATOR_STATE").is_err()
    {
        // An emulator named by endpoint alone (not by the script's state) cannot be matched; nothing to check.
        eprintln!(
            "skipped: emulator given by {} without BPI_EMULATOR_STATE",
            bpi_testkit::ENDPOINT_VAR
        );
        return;
    }
    let started = Instant::now();
    let out = Command::new("timeout")
        .args(["30", "bash"])
        .arg(bpi_testkit::workspace_root().join("deploy/emulator.sh"))
        .arg("start")
        .output()
        .expect("run emulator.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        running.endpoint
    );
}
