//! Errors from AWS calls, classified so callers can decide: retry with backoff, or stop and say why.

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

/// What kind of failure an AWS call had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Throttling: retry later, slower.
    Throttled,
    /// Network failure, timeout or 5xx: retry with backoff.
    Transient,
    /// The resource (queue, policy, service) does not exist: fatal for a worker, a signal for the updater.
    NotFound,
    /// Credentials or permissions are missing: fatal.
    AccessDenied,
    /// Anything else (validation errors, bad requests): fatal, a bug or a bad setting.
    Other,
}

impl ErrorKind {
    /// Whether trying the same call again later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Transient)
    }
}

/// A failed AWS call: which operation, what kind of failure, and the SDK's full message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed ({kind:?}): {message}")]
pub struct AwsError {
    /// The API operation, e.g. `sqs:ReceiveMessage`.
    pub operation: &'static str,
    /// The classification.
    pub kind: ErrorKind,
    /// The service error code, if the service answered with one.
    pub code: Option<String>,
    /// The full error text.
    pub message: String,
}

impl AwsError {
    /// An error raised by our own checks around a call (e.g. a malformed response).
    pub fn other(operation: &'static str, message: impl Into<String>) -> Self {
        AwsError {
            operation,
            kind: ErrorKind::Other,
            code: None,
            message: message.into(),
        }
    }

    /// `Ok(())` for a `NotFound` error (deleting what is already gone), the error otherwise.
    pub fn ignore_not_found(self) -> Result<(), AwsError> {
        if self.kind == ErrorKind::NotFound {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// Converts an SDK error, classifying it.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        // A service error says what it needs in its code and message; the full context (with the raw response)
        // is kept for everything else, where the cause chain is the useful part.
        let mut message = DisplayErrorContext(&err).to_string();
        let (kind, code) = match &err {
            SdkError::ServiceError(service) => {
                let code = service.err().code().map(str::to_string);
                message = format!(
                    "{}: {} (HTTP {})",
                    code.as_deref().unwrap_or("error"),
                    service.err().message().unwrap_or("no message"),
                    status.map_or_else(|| "?".to_string(), |s| s.to_string())
                );
                (classify(code.as_deref(), status), code)
            }
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => (ErrorKind::Transient, None),
            _ => (ErrorKind::Other, None),
        };
        AwsError {
            operation,
            kind,
            code,
            message,
        }
    }
}

/// Classifies a service error by its code and HTTP status.
pub fn classify(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    let code = code.unwrap_or_default();
    let code_lower = code.to_ascii_lowercase();
    if code_lower.contains("throttl")
        || code_lower.contains("toomanyrequests")
        || code == "SlowDown"
        || code == "RequestLimitExceeded"
        || status == Some(429)
    {
        ErrorKind::Throttled
    } else if code_lower.contains("nonexistentqueue")
        || code_lower.contains("queuedoesnotexist")
        || code_lower.contains("notfound")
        || code == "ServiceNotFoundException"
        || code == "ClusterNotFoundException"
    {
        ErrorKind::NotFound
    } else if code_lower.contains("accessdenied")
        || code_lower.contains("unauthorized")
        || code == "UnrecognizedClientException"
        || code == "InvalidClientTokenId"
        || code == "ExpiredToken"
        || code == "InvalidSecurity"
        || status == Some(403)
    {
        ErrorKind::AccessDenied
    } else if status.is_some_and(|s| s >= 500)
        || code == "InternalFailure"
        || code == "InternalError"
        || code == "ServiceUnavailable"
        || code == "InternalServiceException"
    {
        ErrorKind::Transient
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes_and_statuses() {
        assert_eq!(
            classify(Some("ThrottlingException"), Some(400)),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify(Some("AWS.SimpleQueueService.RequestThrottled"), Some(403)),
            ErrorKind::Throttled
        );
        assert_eq!(classify(None, Some(429)), ErrorKind::Throttled);
        assert_eq!(
            classify(Some("AWS.SimpleQueueService.NonExistentQueue"), Some(400)),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(Some("QueueDoesNotExist"), Some(400)),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(Some("ObjectNotFoundException"), Some(400)),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(Some("AccessDeniedException"), Some(400)),
            ErrorKind::AccessDenied
        );
        assert_eq!(classify(None, Some(403)), ErrorKind::AccessDenied);
        assert_eq!(classify(None, Some(503)), ErrorKind::Transient);
        assert_eq!(
            classify(Some("InternalFailure"), Some(500)),
            ErrorKind::Transient
        );
        assert_eq!(
            classify(Some("ValidationException"), Some(400)),
            ErrorKind::Other
        );
        assert!(ErrorKind::Throttled.is_retryable() && ErrorKind::Transient.is_retryable());
        assert!(!ErrorKind::NotFound.is_retryable() && !ErrorKind::Other.is_retryable());
    }
}
