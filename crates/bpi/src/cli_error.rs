//! How a command fails, and the exit code each failure maps to, in one place.

use std::process::ExitCode;

/// A failed command: printed as `bpi: <message>` and mapped to an exit code by [`CliError::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A bad argument or setting: nothing was attempted (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The command ran and failed: an AWS call, a file (exit 1). Printed with its causes.
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

impl CliError {
    /// 2 for a bad argument or setting, 1 for anything else.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Failed(_) => ExitCode::from(1),
        }
    }
}

/// Prints `value` as pretty JSON on standard output.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let json = serde_json::to_string_pretty(value).map_err(anyhow::Error::from)?;
    println!("{json}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_exit_2_and_failures_1_with_their_causes() {
        assert_eq!(CliError::Usage("bad".into()).exit_code(), ExitCode::from(2));
        let failed = CliError::from(anyhow::anyhow!("root").context("reading the queue"));
        assert_eq!(failed.exit_code(), ExitCode::from(1));
        assert_eq!(failed.to_string(), "reading the queue: root");
    }
}
