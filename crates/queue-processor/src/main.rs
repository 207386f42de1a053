//! The queue-processor binary: see the library docs. A current-thread runtime keeps the worker lean: all of its
//! work is waiting on the network and timers. (A `Work` doing heavy CPU work should use `spawn_blocking`.)

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    queue_processor::app::main().await
}
