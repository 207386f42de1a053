//! Start-up from the environment, and what the process exit code says:
//! 0 drained and stopped; 1 fatal AWS condition at start-up (queue missing, no permission); 2 bad setting.

use std::process::ExitCode;

use bpi_aws::cloudwatch::WorkerMetricsClient;
use bpi_aws::sqs::Queue;
use bpi_aws::{AwsClients, load_sdk_config};
use bpi_core::config::{ProcessEnv, ProcessorConfig, WorkMode};

use crate::exec_app::ExecWork;
use crate::http_app::HttpWork;
use crate::shutdown::{self, Shutdown};
use crate::work::{SleepWork, Work};
use crate::worker::Worker;

/// Exit code for a bad setting.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code for a fatal AWS condition.
pub const EXIT_FATAL: u8 = 1;

/// Reads the settings, connects, and runs the worker until SIGTERM/SIGINT and draining are done.
pub async fn main() -> ExitCode {
    if let Err(e) = bpi_aws::logging::init(&ProcessEnv) {
        eprintln!("queue-processor: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let config = match ProcessorConfig::from_env(&ProcessEnv) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(variable = e.variable, "{e}");
            eprintln!("queue-processor: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let clients = AwsClients::new(&load_sdk_config().await);
    let queue = match Queue::resolve(clients.sqs.clone(), &config.queue).await {
        Ok(q) => q,
        Err(e) => {
            let hint = match e.kind {
                bpi_aws::ErrorKind::NotFound => {
                    "the queue does not exist (check QUEUE_URL / QUEUE_NAME and the region)"
                }
                bpi_aws::ErrorKind::AccessDenied => {
                    "no permission to use the queue (check the task role)"
                }
                _ => "cannot reach the queue",
            };
            tracing::error!(error = %e, "{hint}");
            eprintln!("queue-processor: {hint}: {e}");
            return ExitCode::from(EXIT_FATAL);
        }
    };
    let (trigger, listener) = shutdown::channel();
    tokio::spawn(shutdown::on_signals(trigger));
    tracing::info!(work_mode = config.work.name(), "work mode");
    let metrics = WorkerMetricsClient::new(&clients);
    match config.work.clone() {
        WorkMode::Sleep => serve(config, queue, metrics, SleepWork, listener).await,
        WorkMode::Http(app) => match HttpWork::new(app, queue.name()) {
            Ok(work) => serve(config, queue, metrics, work, listener).await,
            Err(e) => {
                tracing::error!(error = %e, "bad setting");
                eprintln!("queue-processor: {e}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        WorkMode::Exec(app) => {
            let work = ExecWork::new(app, queue.name());
            serve(config, queue, metrics, work, listener).await
        }
    }
}

/// Runs the worker with `work` until it has drained and stopped.
async fn serve<W: Work>(
    config: ProcessorConfig,
    queue: Queue,
    cloudwatch: WorkerMetricsClient,
    work: W,
    listener: Shutdown,
) -> ExitCode {
    match Worker::new(config, queue, cloudwatch, work)
        .run(listener)
        .await
    {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "worker could not start");
            eprintln!("queue-processor: {e}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}
