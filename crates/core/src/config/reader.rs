//! Typed reads of variables: defaults, ranges, and errors that name the variable and the value.

use std::fmt;
use std::str::FromStr;

use super::{
    APP_METRIC_NAME, ConfigError, DEFAULT_METRIC_NAME, DEFAULT_METRIC_TYPE, DEFAULT_NAMESPACE,
    EnvSource, METRIC_NAMESPACE, METRIC_TYPE, MetricNames, QUEUE_NAME, QUEUE_URL, QueueRef, VarDoc,
};

/// A numeric variable, declared once: read with the reader's `number_var` and documented with [`Number::doc`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number<T> {
    /// Variable name.
    pub name: &'static str,
    /// Value when unset.
    pub default: T,
    /// Smallest accepted value.
    pub min: T,
    /// Largest accepted value.
    pub max: T,
    /// What it sets (the range is appended).
    pub meaning: &'static str,
}

impl<T: fmt::Display + Copy + Into<f64>> Number<T> {
    /// Its line in the documentation: the default, and the meaning with the range.
    pub fn doc(&self) -> VarDoc {
        VarDoc {
            name: self.name,
            default: self.default.to_string(),
            meaning: format!("{} ({}-{})", self.meaning, self.min, self.max),
            range: Some((self.min.into(), self.max.into())),
        }
    }
}

/// A text variable with a default, declared once: read with the reader's `text_var`, documented with [`Text::doc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    /// Variable name.
    pub name: &'static str,
    /// Value when unset.
    pub default: &'static str,
    /// What it sets.
    pub meaning: &'static str,
}

impl Text {
    /// Its line in the documentation.
    pub fn doc(&self) -> VarDoc {
        VarDoc::new(self.name, self.default, self.meaning)
    }
}

/// A true/false variable, declared once: read with the reader's `flag_var`, documented with [`Flag::doc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// Variable name.
    pub name: &'static str,
    /// Value when unset.
    pub default: bool,
    /// What it sets.
    pub meaning: &'static str,
}

impl Flag {
    /// Its line in the documentation.
    pub fn doc(&self) -> VarDoc {
        VarDoc::new(
            self.name,
            if self.default { "true" } else { "false" },
            self.meaning,
        )
    }
}

pub(super) fn config_error(
    name: &str,
    value: Option<String>,
    problem: impl Into<String>,
) -> ConfigError {
    ConfigError {
        variable: name.to_string(),
        value,
        problem: problem.into(),
    }
}

/// Typed reads of variables with defaults and ranges.
pub(super) struct Reader<'a, E: EnvSource + ?Sized> {
    pub(super) env: &'a E,
}

impl<E: EnvSource + ?Sized> Reader<'_, E> {
    pub(super) fn raw(&self, name: &str) -> Option<String> {
        self.env.var(name).filter(|v| !v.trim().is_empty())
    }

    pub(super) fn required(&self, name: &str, what: &str) -> Result<String, ConfigError> {
        self.raw(name)
            .map(|v| v.trim().to_string())
            .ok_or_else(|| config_error(name, None, format!("required: {what}")))
    }

    pub(super) fn string(&self, name: &str, default: &str) -> String {
        self.raw(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| default.to_string())
    }

    /// A number in `min..=max`.
    pub(super) fn number<T>(&self, name: &str, default: T, min: T, max: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Copy + fmt::Display,
    {
        let Some(raw) = self.raw(name) else {
            return Ok(default);
        };
        let expected = || format!("expected a number from {min} to {max}");
        let value: T = raw
            .trim()
            .parse()
            .map_err(|_| config_error(name, Some(raw.clone()), expected()))?;
        // `!(a <= b)` rather than `a > b` so that NaN is rejected.
        if !(min <= value && value <= max) {
            return Err(config_error(name, Some(raw), expected()));
        }
        Ok(value)
    }

    /// The value of `var`, within its range.
    pub(super) fn number_var<T>(&self, var: &Number<T>) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Copy + fmt::Display,
    {
        self.number(var.name, var.default, var.min, var.max)
    }

    /// The value of `var`, or its default.
    pub(super) fn text_var(&self, var: &Text) -> String {
        self.string(var.name, var.default)
    }

    /// The value of `var`, or its default.
    pub(super) fn flag_var(&self, var: &Flag) -> Result<bool, ConfigError> {
        self.boolean(var.name, var.default)
    }

    pub(super) fn boolean(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        let Some(raw) = self.raw(name) else {
            return Ok(default);
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(config_error(
                name,
                Some(raw),
                "expected true or false (also 1/0, yes/no, on/off)",
            )),
        }
    }

    pub(super) fn queue(&self) -> Result<QueueRef, ConfigError> {
        if let Some(url) = self.raw(QUEUE_URL) {
            let url = url.trim().to_string();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(config_error(
                    QUEUE_URL,
                    Some(url),
                    "expected an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)",
                ));
            }
            return Ok(QueueRef::Url(url));
        }
        let name = self.required(QUEUE_NAME, "set QUEUE_URL or QUEUE_NAME")?;
        validate_queue_name(&name).map_err(|p| config_error(QUEUE_NAME, Some(name.clone()), p))?;
        Ok(QueueRef::Name(name))
    }

    pub(super) fn metric_names(&self) -> Result<MetricNames, ConfigError> {
        Ok(MetricNames {
            namespace: self.string(METRIC_NAMESPACE, DEFAULT_NAMESPACE),
            metric_name: self.string(APP_METRIC_NAME, DEFAULT_METRIC_NAME),
            metric_type: self.string(METRIC_TYPE, DEFAULT_METRIC_TYPE),
        })
    }
}

pub(super) fn validate_queue_name(name: &str) -> Result<(), String> {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    let ok = !base.is_empty()
        && name.len() <= 80
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err("expected 1-80 letters, digits, - or _ (with .fifo for a FIFO queue)".to_string())
    }
}
