//! The one executable statement of the scaling rules: CloudWatch alarms on metric math (M of N datapoints,
//! missing data) and Application Auto Scaling's step policies, evaluated over core's own spec
//! ([`crate::policy::scaling_spec`]). The simulator, the local run and the fault tests run the spec through it, so a
//! rule changes in one place: the builder that writes it for AWS.
//!
//! Why it exists: moto stores alarms and scaling policies but evaluates neither, and each consumer used to hand-code
//! its own copy of the alarms, which drifted (an idle alarm that read only visible messages in one copy and every
//! message in another).

pub mod evaluation;
pub mod metric_math;
pub mod step;
pub mod store;

pub use evaluation::{AlarmState, Datapoints, MissingData, in_alarm};
pub use metric_math::{ParseError, Series, evaluate};
pub use step::StepDecision;
pub use store::MetricStore;
