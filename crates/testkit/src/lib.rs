//! # bpi-testkit
//!
//! Hands integration tests a running local AWS emulator (moto server on 127.0.0.1) and unique resource names, so
//! tests talk to real AWS APIs over HTTP with the real SDK, run in parallel, and never reach beyond loopback.
//!
//! The emulator is found, in order: `BPI_EMULATOR_ENDPOINT` (set by `.ci/run`); the one `deploy/emulator.sh start`
//! recorded in `<repo>/.emulator/endpoint` if it answers; otherwise `deploy/emulator.sh start` is run (it installs
//! moto into `<repo>/.venv` on first use and is safe to call from parallel test processes). An emulator started this
//! way keeps running after the tests; `deploy/emulator.sh stop` stops it.

pub mod ecs_agent;
pub mod lambda;
pub mod proxy;
pub mod service_model;

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Environment variable that names an already running emulator.
pub const ENDPOINT_VAR: &str = "BPI_EMULATOR_ENDPOINT";

/// A running emulator.
#[derive(Debug, Clone)]
pub struct Emulator {
    /// Its endpoint, e.g. `http://127.0.0.1:5000`. Always a loopback address.
    pub endpoint: String,
}

impl Emulator {
    /// The environment a child process (a worker binary, a script) needs to talk to this emulator.
    pub fn child_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The socket address of the endpoint.
    pub fn addr(&self) -> SocketAddr {
        socket_addr(&self.endpoint).unwrap_or_else(|| panic!("bad endpoint {}", self.endpoint))
    }
}

/// The workspace root (where `deploy/emulator.sh` lives).
///
/// Read at run time from the `CARGO_MANIFEST_DIR` cargo sets for the test being run (every crate sits at
/// `crates/NAME`), not the compile-time one: a target directory shared by two clones (the warm cache CI uses)
/// would otherwise hand one clone's tests the other clone's files.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .ancestors()
        .nth(2)
        .expect("every crate is two levels below the workspace root")
        .to_path_buf()
}

/// The shared emulator: found or started once per test process. Panics with the reason if none can be had.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        let endpoint = find_or_start().unwrap_or_else(|e| panic!("local AWS emulator: {e}"));
        assert_loopback(&endpoint);
        Emulator { endpoint }
    })
}

fn find_or_start() -> Result<String, String> {
    if let Ok(endpoint) = std::env::var(ENDPOINT_VAR) {
        return if answers(&endpoint) {
            Ok(endpoint)
        } else {
            Err(format!("{ENDPOINT_VAR}={endpoint} does not answer"))
        };
    }
    let recorded = workspace_root().join(".emulator/endpoint");
    if let Ok(endpoint) = std::fs::read_to_string(&recorded) {
        let endpoint = endpoint.trim().to_string();
        if answers(&endpoint) {
            return Ok(endpoint);
        }
    }
    let script = workspace_root().join("deploy/emulator.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} start failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let endpoint = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    if answers(&endpoint) {
        Ok(endpoint)
    } else {
        Err(format!(
            "emulator.sh printed {endpoint:?}, which does not answer"
        ))
    }
}

fn socket_addr(endpoint: &str) -> Option<SocketAddr> {
    let host_port = endpoint
        .strip_prefix("http://")?
        .split('/')
        .next()?
        .to_string();
    host_port.to_socket_addrs().ok()?.next()
}

fn answers(endpoint: &str) -> bool {
    socket_addr(endpoint)
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

fn assert_loopback(endpoint: &str) {
    let addr = socket_addr(endpoint).unwrap_or_else(|| panic!("bad endpoint {endpoint}"));
    assert!(
        addr.ip().is_loopback(),
        "tests only ever talk to loopback; {endpoint} is not"
    );
}

/// An emulator of a test's own, on its own port, for tests that stop and restart it (which would disturb every
/// other test if done to the shared one). Killed when dropped.
#[derive(Debug)]
pub struct PrivateEmulator {
    /// Its endpoint.
    pub emulator: Emulator,
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateEmulator {
    /// Starts one on a free loopback port (the shared emulator is started first, to make sure moto is installed).
    pub fn start() -> Self {
        emulator();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut this = PrivateEmulator {
            emulator: Emulator {
                endpoint: format!("http://127.0.0.1:{port}"),
            },
            port,
            child: None,
        };
        this.restart();
        this
    }

    /// Kills it (its state is lost, as when a real emulator process dies).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (after [`PrivateEmulator::kill`]), empty.
    pub fn restart(&mut self) {
        self.kill();
        let moto = venv_bin("moto_server");
        let child = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", moto.display()));
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !answers(&self.emulator.endpoint) {
            assert!(
                std::time::Instant::now() < deadline,
                "private emulator did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PrivateEmulator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A program in the project's Python virtualenv (`BPI_VENV`, default `<repo>/.venv`), e.g. `aws` or `moto_server`.
pub fn venv_bin(name: &str) -> PathBuf {
    std::env::var("BPI_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join(".venv"))
        .join("bin")
        .join(name)
}

/// A binary of this workspace (e.g. `queue-processor`) in the profile directory the running test was built into,
/// built first with `cargo build -p NAME` if it is not there (`cargo test -p OTHER` builds only OTHER's binaries).
pub fn workspace_binary(name: &str) -> PathBuf {
    // A test executable lives in `<target>/<profile>/deps/`.
    let exe = std::env::current_exe().expect("current test executable");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test executable is in <target>/<profile>/deps");
    let bin = profile_dir.join(name);
    if !bin.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "-q", "-p", name])
            .current_dir(workspace_root())
            .status()
            .unwrap_or_else(|e| panic!("cargo build -p {name}: {e}"));
        assert!(status.success(), "cargo build -p {name} failed");
    }
    bin
}

/// Records a fault-suite outcome (`deploy/fault-suite.sh` renders the table of docs/testing.md from them): one JSON line
/// `{"case": N, "figures": {...}}` appended to the file `BPI_FAULT_RESULTS` names, when set; always printed too.
pub fn record_fault_result(case: u32, figures: &str) {
    let line = format!("{{\"case\": {case}, \"figures\": {figures}}}");
    println!("fault result: {line}");
    if let Ok(path) = std::env::var("BPI_FAULT_RESULTS") {
        use std::io::Write;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        if let Ok(mut f) = file {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// A name unique across parallel test processes and runs: `prefix-<pid>-<n>-<time>`, at most 80 characters of
/// letters, digits and `-` (valid for SQS queues, ECS clusters and services, policies).
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() % 1_000_000_000)
        .unwrap_or(0);
    let mut name = format!("{prefix}-{}-{n}-{micros}", std::process::id());
    name.truncate(80);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_differ_and_are_valid_queue_names() {
        let a = unique_name("smoke");
        let b = unique_name("smoke");
        assert_ne!(a, b);
        assert!(a.starts_with("smoke-"));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        assert!(unique_name(&"x".repeat(100)).len() <= 80);
    }

    #[test]
    fn endpoints_parse_to_socket_addresses() {
        assert_eq!(
            socket_addr("http://127.0.0.1:5000"),
            Some("127.0.0.1:5000".parse().expect("addr"))
        );
        assert_eq!(socket_addr("https://127.0.0.1:5000"), None);
    }
}
