//! The `bpi` binary and the deploy scripts, run for real against the local emulator (moto server).

mod attach;
mod aws_models;
mod deploy;
mod fleet;
mod iam;
mod local_run;
mod policy;
mod scaling;
mod simulate;
mod status;
mod support;
mod template;
mod what_if;
