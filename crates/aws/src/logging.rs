//! Logging set-up shared by the binaries: JSON lines by default (one object per event, which CloudWatch Logs
//! Insights queries field by field), or text for a terminal.
//!
//! `RUST_LOG` filters (default `info`); `LOG_FORMAT` is `json` (default) or `text`.

use bpi_core::config::{ConfigError, EnvSource};
use tracing_subscriber::EnvFilter;

/// Name of the format variable.
pub const LOG_FORMAT: &str = "LOG_FORMAT";

/// Installs the global subscriber. Fails, naming the variable, on a bad `LOG_FORMAT`.
pub fn init(env: &(impl EnvSource + ?Sized)) -> Result<(), ConfigError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let format = env.var(LOG_FORMAT).unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (e.g. from tests) keeps the first subscriber: try_init's error is ignored on purpose.
    match format.trim() {
        "" | "json" => {
            let _ = builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .try_init();
        }
        "text" => {
            let _ = builder.with_ansi(false).try_init();
        }
        other => {
            return Err(ConfigError {
                variable: LOG_FORMAT.to_string(),
                value: Some(other.to_string()),
                problem: "expected json or text".to_string(),
            });
        }
    }
    Ok(())
}
