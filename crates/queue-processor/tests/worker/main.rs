//! The worker against the local emulator (moto server) with the real SDK: in-process for what is observed from
//! inside, and as the real binary (a child process) for signals and exit codes.

#![allow(clippy::float_cmp)] // exact expected values

mod support;

mod apps;
mod binary;
mod fifo;
mod processing;
mod protection;
mod resilience;
