//! The message-producer's settings.

use serde::Serialize;

use super::*;
use crate::durations::DurationDistribution;
use crate::message::DEFAULT_MAX_DURATION_SECS;

/// How FIFO messages are spread over message groups (messages of one group are delivered in order, one at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupStrategy {
    /// Each message its own group: no ordering, full parallelism (the default).
    PerMessage,
    /// One group: strict order, one message in flight at a time.
    Single,
    /// Messages spread round-robin over this many groups.
    Groups(u32),
}

/// `MESSAGE_COUNT`.
const MESSAGE_COUNT: Number<u32> = Number {
    name: "MESSAGE_COUNT",
    default: 50,
    min: 0,
    max: 100_000,
    meaning: "messages sent per invocation",
};

/// `MESSAGE_DURATION_SECS`.
const CONSTANT_SECS: Number<f64> = Number {
    name: "MESSAGE_DURATION_SECS",
    default: 5.0,
    min: 0.0,
    max: DEFAULT_MAX_DURATION_SECS,
    meaning: "constant: the `duration` of every message",
};

/// `DURATION_MIN_SECS`.
const UNIFORM_MIN: Number<f64> = Number {
    name: "DURATION_MIN_SECS",
    default: 1.0,
    min: 0.0,
    max: DEFAULT_MAX_DURATION_SECS,
    meaning: "uniform: lower bound",
};

/// `DURATION_MAX_SECS`.
const UNIFORM_MAX: Number<f64> = Number {
    name: "DURATION_MAX_SECS",
    default: 9.0,
    min: 0.0,
    max: DEFAULT_MAX_DURATION_SECS,
    meaning: "uniform: upper bound, at least the lower",
};

/// `DURATION_MEAN_SECS`.
const MEAN_SECS: Number<f64> = Number {
    name: "DURATION_MEAN_SECS",
    default: 5.0,
    min: 0.0,
    max: DEFAULT_MAX_DURATION_SECS,
    meaning: "lognormal and exponential: mean",
};

/// `DURATION_SIGMA`.
const SIGMA: Number<f64> = Number {
    name: "DURATION_SIGMA",
    default: 0.5,
    min: 0.0,
    max: 3.0,
    meaning: "lognormal: shape, the standard deviation of the log",
};

/// `DURATION_DISTRIBUTION`.
const DISTRIBUTION: Text = Text {
    name: "DURATION_DISTRIBUTION",
    default: "constant",
    meaning: "how each message's `duration` is drawn: constant, uniform, lognormal or exponential",
};

/// `MESSAGE_GROUP_STRATEGY`.
const GROUP_STRATEGY: Text = Text {
    name: "MESSAGE_GROUP_STRATEGY",
    default: "per-message",
    meaning: "FIFO queues: per-message (no ordering), single (one ordered group) or groups:N (round-robin over N)",
};

impl GroupStrategy {
    /// The MessageGroupId of the `index`-th message (of id `message_id`) of an invocation.
    pub fn group_id(&self, index: u32, message_id: &str) -> String {
        match self {
            GroupStrategy::PerMessage => message_id.to_string(),
            GroupStrategy::Single => "bpi".to_string(),
            GroupStrategy::Groups(n) => format!("bpi-{}", index % (*n).max(1)),
        }
    }
}

/// Settings of the message-producer Lambda.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProducerConfig {
    /// The queue written to.
    pub queue: QueueRef,
    /// Messages sent per invocation.
    pub message_count: u32,
    /// How each message's `duration` is drawn.
    pub durations: DurationDistribution,
    /// Message groups on a FIFO queue.
    pub group_strategy: GroupStrategy,
    /// Seed for the durations (None: a fresh random seed per invocation).
    pub seed: Option<u64>,
}

impl ProducerConfig {
    /// Every variable the producer reads.
    pub fn variables() -> Vec<VarDoc> {
        let mut docs = queue_docs();
        docs.extend([
            MESSAGE_COUNT.doc(),
            DISTRIBUTION.doc(),
            CONSTANT_SECS.doc(),
            UNIFORM_MIN.doc(),
            UNIFORM_MAX.doc(),
            MEAN_SECS.doc(),
            SIGMA.doc(),
            GROUP_STRATEGY.doc(),
            VarDoc::new(
                "PRODUCER_SEED",
                "random",
                "seed of the durations, for repeatable loads",
            ),
        ]);
        docs
    }

    /// Reads the producer's settings.
    pub fn from_env(env: &(impl EnvSource + ?Sized)) -> Result<Self, ConfigError> {
        let r = Reader { env };
        // Every duration variable is checked, whichever distribution is chosen: a bad value is a mistake either way.
        let kind = r.text_var(&DISTRIBUTION);
        let secs = r.number_var(&CONSTANT_SECS)?;
        let min_secs = r.number_var(&UNIFORM_MIN)?;
        let max_secs = r.number_var(&UNIFORM_MAX)?;
        let mean_secs = r.number_var(&MEAN_SECS)?;
        let sigma = r.number_var(&SIGMA)?;
        let durations = match kind.as_str() {
            "constant" => DurationDistribution::Constant { secs },
            "uniform" if max_secs < min_secs => {
                return Err(config_error(
                    "DURATION_MAX_SECS",
                    Some(max_secs.to_string()),
                    format!("must be at least DURATION_MIN_SECS ({min_secs})"),
                ));
            }
            "uniform" => DurationDistribution::Uniform { min_secs, max_secs },
            "lognormal" => DurationDistribution::LogNormal { mean_secs, sigma },
            "exponential" => DurationDistribution::Exponential { mean_secs },
            _ => {
                return Err(config_error(
                    "DURATION_DISTRIBUTION",
                    Some(kind),
                    "expected constant, uniform, lognormal or exponential",
                ));
            }
        };
        let strategy = r.text_var(&GROUP_STRATEGY);
        let group_strategy = match strategy.as_str() {
            "per-message" => GroupStrategy::PerMessage,
            "single" => GroupStrategy::Single,
            other => match other.strip_prefix("groups:").map(str::parse::<u32>) {
                Some(Ok(n)) if (1..=10_000).contains(&n) => GroupStrategy::Groups(n),
                _ => {
                    return Err(config_error(
                        "MESSAGE_GROUP_STRATEGY",
                        Some(strategy),
                        "expected per-message, single or groups:N with N from 1 to 10000",
                    ));
                }
            },
        };
        let seed = match r.raw("PRODUCER_SEED") {
            None => None,
            Some(_) => Some(r.number("PRODUCER_SEED", 0u64, 0, u64::MAX)?),
        };
        Ok(ProducerConfig {
            queue: r.queue()?,
            message_count: r.number_var(&MESSAGE_COUNT)?,
            durations,
            group_strategy,
            seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DurationDistribution;

    #[test]
    fn producer_reads_distributions_and_group_strategies() {
        let c = ProducerConfig::from_env(&[(QUEUE_NAME, "q")]).expect("valid");
        assert_eq!(c.message_count, 50);
        assert_eq!(c.durations, DurationDistribution::Constant { secs: 5.0 });
        assert_eq!(c.group_strategy, GroupStrategy::PerMessage);
        assert_eq!(c.seed, None);
        let c = ProducerConfig::from_env(&[
            (QUEUE_NAME, "q.fifo"),
            ("DURATION_DISTRIBUTION", "lognormal"),
            ("DURATION_MEAN_SECS", "7"),
            ("MESSAGE_GROUP_STRATEGY", "groups:4"),
            ("PRODUCER_SEED", "42"),
        ])
        .expect("valid");
        assert_eq!(
            c.durations,
            DurationDistribution::LogNormal {
                mean_secs: 7.0,
                sigma: 0.5
            }
        );
        assert_eq!(c.group_strategy, GroupStrategy::Groups(4));
        assert_eq!(c.group_strategy.group_id(5, "m"), "bpi-1");
        assert_eq!(c.seed, Some(42));
        for (var, bad) in [
            ("DURATION_DISTRIBUTION", "normal"),
            ("MESSAGE_GROUP_STRATEGY", "groups:0"),
            ("MESSAGE_GROUP_STRATEGY", "random"),
            ("PRODUCER_SEED", "-1"),
            ("MESSAGE_COUNT", "100001"),
            ("MESSAGE_DURATION_SECS", "901"),
        ] {
            let err = ProducerConfig::from_env(&[(QUEUE_NAME, "q"), (var, bad)]).expect_err(var);
            assert_eq!(err.variable, var);
        }
        let err = ProducerConfig::from_env(&[
            (QUEUE_NAME, "q"),
            ("DURATION_DISTRIBUTION", "uniform"),
            ("DURATION_MIN_SECS", "5"),
            ("DURATION_MAX_SECS", "2"),
        ])
        .expect_err("max < min");
        assert_eq!(err.variable, "DURATION_MAX_SECS");
    }
}
