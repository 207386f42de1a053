//! Shutdown: one signal, many listeners. SIGTERM (ECS scale-in and deploys) and SIGINT (Ctrl-C) trigger it; tests
//! trigger it directly.

use tokio::sync::watch;

/// Triggers shutdown. Cloning shares the trigger.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// Listens for shutdown. Cloning gives another listener.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// A connected trigger and listener.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Starts shutdown. Idempotent.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// Completes when shutdown starts (at once if it has).
    pub async fn triggered(&mut self) {
        // An error means every trigger was dropped: nothing can start shutdown any more, so wait forever.
        if self.0.wait_for(|v| *v).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Triggers shutdown on SIGTERM or SIGINT. Runs until one arrives.
pub async fn on_signals(trigger: ShutdownTrigger) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!(
            "cannot install signal handlers; SIGTERM will kill the worker without draining"
        );
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(
        signal = name,
        "shutdown requested: stop receiving, drain in-flight messages"
    );
    trigger.trigger();
}
