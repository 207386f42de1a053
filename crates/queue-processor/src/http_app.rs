//! HTTP mode: each message is POSTed to the user's application in the same task, as Elastic Beanstalk's worker
//! daemon (sqsd) does, so a worker written in any language keeps working unchanged.
//!
//! The request: `POST http://127.0.0.1:{APP_PORT}{APP_PATH}`, the body as sent, `Content-Type: {APP_CONTENT_TYPE}`,
//! and sqsd's headers (Elastic Beanstalk developer guide, "Elastic Beanstalk worker environments"):
//! `X-Aws-Sqsd-Msgid`, `X-Aws-Sqsd-Queue`, `X-Aws-Sqsd-Receive-Count`, `X-Aws-Sqsd-First-Received-At` (RFC 3339,
//! UTC). Where this differs from sqsd:
//! - any 2xx completes the message (sqsd: only 200);
//! - `X-Aws-Sqsd-Sent-At` is added (sqsd has no sent time), so the application can see how long it waited;
//! - `X-Aws-Sqsd-Message-Group-Id` and, on a FIFO queue, `X-Aws-Sqsd-Sequence-Number` are added when the message
//!   has them (this worker's names: sqsd documents none for groups);
//! - `X-Aws-Sqsd-Sender-Id` and the `X-Aws-Sqsd-Attr-*` message attributes are not sent (the worker does not
//!   request them), and there are no periodic tasks (`X-Aws-Sqsd-Taskname`);
//! - `User-Agent` is `aws-sqsd-compatible (ecs-sqs-bpi)`.
//!
//! Outcomes: a 2xx deletes the message; any other status or a timeout leaves it for retry (and the DLQ after
//! maxReceiveCount); a refused or dropped connection means the application is down: the message is handed back
//! at once and the worker stops receiving until the application is ready again.

use std::time::Duration;

use bpi_core::config::HttpApp;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::work::{BodyFormat, Delivery, Work, WorkError, rfc3339_utc};

/// How long a readiness check may take.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// The `User-Agent` of every request.
pub const USER_AGENT_VALUE: &str = "aws-sqsd-compatible (ecs-sqs-bpi)";

/// Posts each message to the application.
#[derive(Debug, Clone)]
pub struct HttpWork {
    /// One connection pool for the messages and the readiness checks.
    client: Client<HttpConnector, Full<Bytes>>,
    app: HttpApp,
    url: hyper::Uri,
    queue_name: HeaderValue,
    content_type: HeaderValue,
}

/// A setting that cannot make a request.
#[derive(Debug, thiserror::Error)]
#[error("invalid HTTP application setting: {0}")]
pub struct HttpSettingError(String);

fn connector() -> HttpConnector {
    let mut c = HttpConnector::new();
    c.set_nodelay(true);
    c.set_connect_timeout(Some(HEALTH_TIMEOUT));
    c
}

impl HttpWork {
    /// The application at `app`, for messages of `queue_name`.
    pub fn new(app: HttpApp, queue_name: &str) -> Result<Self, HttpSettingError> {
        let url = format!("http://127.0.0.1:{}{}", app.port, app.path)
            .parse()
            .map_err(|e| HttpSettingError(format!("APP_PATH {:?}: {e}", app.path)))?;
        let content_type = HeaderValue::from_str(&app.content_type).map_err(|e| {
            HttpSettingError(format!("APP_CONTENT_TYPE {:?}: {e}", app.content_type))
        })?;
        let queue_name = HeaderValue::from_str(queue_name)
            .map_err(|e| HttpSettingError(format!("queue name {queue_name:?}: {e}")))?;
        Ok(HttpWork {
            client: Client::builder(TokioExecutor::new()).build(connector()),
            app,
            url,
            queue_name,
            content_type,
        })
    }

    fn request(&self, delivery: &Delivery) -> Result<Request<Full<Bytes>>, WorkError> {
        let mut request = Request::post(self.url.clone())
            .header(USER_AGENT, USER_AGENT_VALUE)
            .header(CONTENT_TYPE, self.content_type.clone())
            .header("X-Aws-Sqsd-Msgid", delivery.message_id.as_str())
            .header("X-Aws-Sqsd-Queue", self.queue_name.clone())
            .header("X-Aws-Sqsd-Receive-Count", delivery.receive_count);
        if let Some(ms) = delivery.first_received_at_ms {
            request = request.header("X-Aws-Sqsd-First-Received-At", rfc3339_utc(ms));
        }
        if let Some(ms) = delivery.sent_at_ms {
            request = request.header("X-Aws-Sqsd-Sent-At", rfc3339_utc(ms));
        }
        if let Some(group) = &delivery.group_id {
            request = request.header("X-Aws-Sqsd-Message-Group-Id", group.as_str());
        }
        if let Some(sequence) = &delivery.sequence_number {
            request = request.header("X-Aws-Sqsd-Sequence-Number", sequence.as_str());
        }
        request
            .body(Full::new(Bytes::copy_from_slice(delivery.body.as_bytes())))
            .map_err(WorkError::new)
    }
}

/// What a failed request says: a connection that could not be made, or was dropped before an answer, means the
/// application is down.
fn transport_failure(e: hyper_util::client::legacy::Error) -> WorkError {
    WorkError::unavailable(format!("the application did not answer: {e}"))
}

impl Work for HttpWork {
    fn body_format(&self) -> BodyFormat {
        BodyFormat::Any
    }

    async fn process(&self, delivery: &Delivery) -> Result<(), WorkError> {
        let request = self.request(delivery)?;
        let timeout = Duration::from_secs(u64::from(self.app.timeout_secs));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(transport_failure)?;
            let status = response.status();
            // Read the answer to its end so the connection goes back to the pool.
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| WorkError::new(format!("reading the answer: {e}")))?
                .to_bytes();
            if status.is_success() {
                Ok(())
            } else {
                let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                Err(WorkError::new(format!(
                    "the application answered {status}: {text}"
                )))
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(WorkError::new(format!(
                "no answer within APP_TIMEOUT_SECS={}",
                self.app.timeout_secs
            ))),
        }
    }

    fn readiness_interval(&self) -> Option<Duration> {
        Some(Duration::from_secs(u64::from(
            self.app.health_interval_secs,
        )))
    }

    async fn check_ready(&self) -> Result<(), WorkError> {
        let addr = ("127.0.0.1", self.app.port);
        let Some(path) = &self.app.health_path else {
            return match tokio::time::timeout(HEALTH_TIMEOUT, tokio::net::TcpStream::connect(addr))
                .await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(WorkError::unavailable(format!(
                    "127.0.0.1:{} does not accept connections: {e}",
                    self.app.port
                ))),
                Err(_) => Err(WorkError::unavailable("connecting timed out")),
            };
        };
        let uri: hyper::Uri = format!("http://127.0.0.1:{}{path}", self.app.port)
            .parse()
            .map_err(WorkError::unavailable)?;
        let request = Request::get(uri)
            .header(USER_AGENT, USER_AGENT_VALUE)
            .body(Full::new(Bytes::new()))
            .map_err(WorkError::unavailable)?;
        let check = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(transport_failure)?;
            let status = response.status();
            let _ = response.into_body().collect().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(WorkError::unavailable(format!("{path} answered {status}")))
            }
        };
        tokio::time::timeout(HEALTH_TIMEOUT, check)
            .await
            .unwrap_or_else(|_| {
                Err(WorkError::unavailable(format!(
                    "{path} did not answer in time"
                )))
            })
    }
}
