//! The `bpi` binary and the deploy scripts, run for real against the local emulator (moto server).

mod deploy;
mod policy;
mod status;
mod template;
