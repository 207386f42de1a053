//! A stand-in for the Lambda Runtime API (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>) on
//! 127.0.0.1, so a test can run a real built function binary, hand it one event the way Lambda does, and read its
//! response or error. Plain HTTP/1.1 over std threads: keep-alive, Content-Length and chunked bodies.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// The function posted a response: its body.
    Response(String),
    /// The function posted an invocation or init error: its body.
    Error(String),
    /// The process exited before answering: its exit code and stderr.
    Exited(Option<i32>, String),
}

struct Request {
    method: String,
    path: String,
    body: String,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        body.resize(len, 0);
        reader.read_exact(&mut body).ok()?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some(Request {
        method,
        path,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &str) {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    let _ = stream.write_all(out.as_bytes());
}

fn serve(
    stream: TcpStream,
    event: Arc<String>,
    delivered: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    tx: mpsc::Sender<Invocation>,
) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/2018-06-01/runtime/invocation/next") => {
                if delivered.swap(true, Ordering::SeqCst) {
                    // One event per test: hold the next poll until the test is over.
                    while !done.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    return;
                }
                let deadline_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() + 60_000)
                    .unwrap_or_default();
                respond(
                    &mut writer,
                    "200 OK",
                    &[
                        ("Content-Type", "application/json".to_string()),
                        (
                            "Lambda-Runtime-Aws-Request-Id",
                            "test-request-1".to_string(),
                        ),
                        ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
                        (
                            "Lambda-Runtime-Invoked-Function-Arn",
                            "arn:aws:lambda:us-east-1:123456789012:function:test".to_string(),
                        ),
                        (
                            "Lambda-Runtime-Trace-Id",
                            "Root=1-00000000-000000000000000000000000;Sampled=0".to_string(),
                        ),
                    ],
                    &event,
                );
            }
            ("POST", path) if path.ends_with("/response") => {
                respond(&mut writer, "202 Accepted", &[], "{}");
                let _ = tx.send(Invocation::Response(req.body));
            }
            ("POST", path) if path.ends_with("/error") => {
                respond(&mut writer, "202 Accepted", &[], "{}");
                let _ = tx.send(Invocation::Error(req.body));
            }
            _ => respond(&mut writer, "404 Not Found", &[], "{}"),
        }
    }
}

/// Runs `binary` as a Lambda function with `env`, hands it `event` (JSON) once, and returns what it answered within
/// `limit`. The process is killed afterwards.
pub fn invoke(binary: &Path, env: &[(String, String)], event: &str, limit: Duration) -> Invocation {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the runtime API");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    let event = Arc::new(event.to_string());
    let delivered = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    {
        let (done, delivered) = (done.clone(), delivered.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (event, delivered, done, tx) =
                    (event.clone(), delivered.clone(), done.clone(), tx.clone());
                std::thread::spawn(move || serve(stream, event, delivered, done, tx));
            }
        });
    }
    let mut child = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let deadline = Instant::now() + limit;
    let outcome = loop {
        if let Ok(outcome) = rx.recv_timeout(Duration::from_millis(50)) {
            break outcome;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            break Invocation::Exited(status.code(), stderr);
        }
        assert!(
            Instant::now() < deadline,
            "the function did not answer within {limit:?}"
        );
    };
    done.store(true, Ordering::SeqCst);
    let _ = child.kill();
    let _ = child.wait();
    outcome
}
