//! The settings of a simulation run that are not the scenario's: the seed, the AWS behaviours assumed, the
//! updater's cadence, a sampler failure, and the task's size and price. Below every module that runs a policy
//! (the engine, the oracle, the report), so none of them imports another for it.

use crate::model::AwsModel;

/// Simulation settings that are not the scenario's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimSettings {
    /// Seed of the arrivals (and of the model's random draws).
    pub seed: u64,
    /// The AWS behaviours assumed.
    pub model: AwsModel,
    /// Updater cadence (ours and the blueprint), seconds.
    pub updater_every_secs: u64,
    /// When the sampler stops publishing, seconds (None: it never does).
    pub sampler_fails_at_secs: Option<u64>,
    /// vCPU of a task.
    pub task_vcpu: f64,
    /// Memory of a task, GB.
    pub task_gb: f64,
    /// Fargate price per vCPU-hour (ARM64, us-east-1 list price).
    pub vcpu_hour_usd: f64,
    /// Fargate price per GB-hour (ARM64, us-east-1 list price).
    pub gb_hour_usd: f64,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            seed: 1,
            model: AwsModel::default(),
            updater_every_secs: 3600,
            sampler_fails_at_secs: None,
            task_vcpu: 0.25,
            task_gb: 0.5,
            vcpu_hour_usd: bpi_core::cost::FARGATE_ARM64_VCPU_HOUR_USD,
            gb_hour_usd: bpi_core::cost::FARGATE_ARM64_GB_HOUR_USD,
        }
    }
}
