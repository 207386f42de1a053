//! A stand-in for the ECS agent's task-protection endpoint (`$ECS_AGENT_URI/task-protection/v1/state`) on
//! 127.0.0.1: no emulator has an ECS agent. It answers 200 to every request and records each (request line, body),
//! so a test can see what a worker asked for and whether its task is protected now.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// The recorded requests: (request line, body).
pub type Requests = Arc<Mutex<Vec<(String, String)>>>;

/// A running stand-in agent (a thread serving until the test process ends).
#[derive(Debug, Clone)]
pub struct FakeEcsAgent {
    /// The value for `ECS_AGENT_URI` (`http://127.0.0.1:PORT/api/task`).
    pub uri: String,
    requests: Requests,
}

impl FakeEcsAgent {
    /// Starts one on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake ECS agent");
        let uri = format!(
            "http://{}/api/task",
            listener.local_addr().expect("its address")
        );
        let requests: Requests = Arc::default();
        let record = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                // Headers, then the Content-Length body.
                loop {
                    let n = stream.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf);
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if body.len() >= len {
                            let line = head.lines().next().unwrap_or_default().to_string();
                            if let Ok(mut r) = record.lock() {
                                r.push((line, body.to_string()));
                            }
                            break;
                        }
                    }
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                );
            }
        });
        FakeEcsAgent { uri, requests }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The shared record, for tests that watch it while the worker runs.
    pub fn requests_handle(&self) -> Requests {
        self.requests.clone()
    }

    /// The protection state last set (None: never set).
    pub fn protected(&self) -> Option<bool> {
        self.requests()
            .last()
            .map(|(_, body)| body.contains("\"ProtectionEnabled\":true"))
    }
}
