//! The fault-injecting proxy (`deploy/fault-proxy.py`) in front of the emulator: throttling and 500s for a share
//! of the requests (or only those about one resource), so a test sees what the SDK does with real failures.

/// The fault-injecting proxy (`deploy/fault-proxy.py`) in front of the emulator, stopped on drop.
#[derive(Debug)]
pub struct Proxy {
    child: std::process::Child,
    /// Its endpoint.
    pub url: String,
    stats: std::path::PathBuf,
}

impl Proxy {
    /// Starts it: `rate` of the requests answered with a fault for `window_secs`.
    pub fn start(upstream: &str, rate: f64, window_secs: u64) -> Self {
        Self::start_matching(upstream, rate, window_secs, "")
    }

    /// Starts it faulting only the requests whose body holds `matching` (all of them for "").
    pub fn start_matching(upstream: &str, rate: f64, window_secs: u64, matching: &str) -> Self {
        let stats = std::env::temp_dir().join(format!("{}.json", crate::unique_name("proxy")));
        let mut child = std::process::Command::new("python3")
            .arg(crate::workspace_root().join("deploy/fault-proxy.py"))
            .args(["--upstream", upstream, "--rate", &rate.to_string()])
            .args(["--for-secs", &window_secs.to_string()])
            .args(["--only-matching", matching])
            .arg("--stats")
            .arg(&stats)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 deploy/fault-proxy.py");
        let mut port = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut port,
        )
        .expect("port");
        Proxy {
            child,
            url: format!("http://127.0.0.1:{}", port.trim()),
            stats,
        }
    }

    /// Its counts.
    pub fn stats(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&self.stats).expect("stats")).expect("json")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
