//! A small evaluator of CloudWatch metric math and alarm evaluation, for the expressions this project writes.
//!
//! Why it exists: moto stores alarms and scaling policies but evaluates neither metric math nor alarms, so what the
//! shipped expressions do when a metric goes missing (the sampler stopped, a reading throttled) cannot be observed
//! against the emulator. This evaluator follows the CloudWatch user guide ("Metric math syntax and functions";
//! "Evaluating an alarm", "Configuring how CloudWatch alarms treat missing data") for the subset used here:
//! numbers, metric ids, `+ - * /`, comparisons (`== != > < >= <=`, 1 or 0), `IF(c, a, b)` and `FILL(m, v)`.
//! Series are aligned by period; an operation on a missing value is missing (a time series has no datapoint
//! there), except `FILL`, which replaces it.

// CloudWatch compares values exactly (`==` on datapoints); so does this evaluator.
#![allow(clippy::float_cmp)]

use std::collections::BTreeMap;

/// One value per period, `None` where the metric has no datapoint.
pub type Series = Vec<Option<f64>>;

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Number(f64),
    Id(String),
    Binary(Box<Expr>, String, Box<Expr>),
    Call(String, Vec<Expr>),
}

/// A parse error, with the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub String);

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn error<T>(&self, what: &str) -> Result<T, ParseError> {
        Err(ParseError(format!(
            "{what} at {} in `{}`",
            self.at, self.text
        )))
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        let t: Vec<char> = token.chars().collect();
        if self.chars[self.at..].starts_with(&t) {
            self.at += t.len();
            true
        } else {
            false
        }
    }

    /// comparison := sum (op sum)?
    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let left = self.sum()?;
        for op in ["==", "!=", ">=", "<=", ">", "<"] {
            if self.eat(op) {
                let right = self.sum()?;
                return Ok(Expr::Binary(
                    Box::new(left),
                    op.to_string(),
                    Box::new(right),
                ));
            }
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.product()?;
        loop {
            let op = if self.eat("+") {
                "+"
            } else if self.eat("-") {
                "-"
            } else {
                return Ok(left);
            };
            let right = self.product()?;
            left = Expr::Binary(Box::new(left), op.to_string(), Box::new(right));
        }
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.atom()?;
        loop {
            let op = if self.eat("*") {
                "*"
            } else if self.eat("/") {
                "/"
            } else {
                return Ok(left);
            };
            let right = self.atom()?;
            left = Expr::Binary(Box::new(left), op.to_string(), Box::new(right));
        }
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        self.skip_space();
        if self.eat("(") {
            let e = self.comparison()?;
            if !self.eat(")") {
                return self.error("expected )");
            }
            return Ok(e);
        }
        let start = self.at;
        while self
            .chars
            .get(self.at)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        {
            self.at += 1;
        }
        let word: String = self.chars[start..self.at].iter().collect();
        if word.is_empty() {
            return self.error("expected a number, an id or a function");
        }
        if let Ok(n) = word.parse::<f64>() {
            return Ok(Expr::Number(n));
        }
        if self.eat("(") {
            let mut args = vec![self.comparison()?];
            while self.eat(",") {
                args.push(self.comparison()?);
            }
            if !self.eat(")") {
                return self.error("expected ) after the arguments");
            }
            return Ok(Expr::Call(word, args));
        }
        Ok(Expr::Id(word))
    }
}

fn parse(text: &str) -> Result<Expr, ParseError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        at: 0,
        text,
    };
    let e = p.comparison()?;
    p.skip_space();
    if p.at != p.chars.len() {
        return p.error("unexpected text");
    }
    Ok(e)
}

fn value(e: &Expr, inputs: &BTreeMap<String, Series>, i: usize) -> Result<Option<f64>, ParseError> {
    Ok(match e {
        Expr::Number(n) => Some(*n),
        Expr::Id(id) => *inputs
            .get(id)
            .ok_or_else(|| ParseError(format!("unknown id {id}")))?
            .get(i)
            .unwrap_or(&None),
        Expr::Binary(l, op, r) => {
            let (Some(a), Some(b)) = (value(l, inputs, i)?, value(r, inputs, i)?) else {
                return Ok(None);
            };
            let truth = |t: bool| Some(if t { 1.0 } else { 0.0 });
            match op.as_str() {
                "+" => Some(a + b),
                "-" => Some(a - b),
                "*" => Some(a * b),
                "/" => Some(a / b),
                "==" => truth(a == b),
                "!=" => truth(a != b),
                ">" => truth(a > b),
                "<" => truth(a < b),
                ">=" => truth(a >= b),
                "<=" => truth(a <= b),
                _ => return Err(ParseError(format!("unknown operator {op}"))),
            }
        }
        Expr::Call(f, args) => match (f.to_ascii_uppercase().as_str(), args.as_slice()) {
            ("FILL", [m, v]) => value(m, inputs, i)?.or(value(v, inputs, i)?),
            ("IF", [c, a, b]) => match value(c, inputs, i)? {
                None => None,
                Some(c) if c != 0.0 => value(a, inputs, i)?,
                Some(_) => value(b, inputs, i)?,
            },
            _ => return Err(ParseError(format!("unsupported function {f}"))),
        },
    })
}

/// Evaluates `expression` period by period over `inputs` (each id's series; all of the same length `periods`).
pub fn evaluate(
    expression: &str,
    inputs: &BTreeMap<String, Series>,
    periods: usize,
) -> Result<Series, ParseError> {
    let e = parse(expression)?;
    (0..periods).map(|i| value(&e, inputs, i)).collect()
}

/// How an alarm treats a missing datapoint (PutMetricAlarm `TreatMissingData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingData {
    /// `breaching`: counts as a breaching datapoint.
    Breaching,
    /// `notBreaching`: counts as a good datapoint.
    NotBreaching,
    /// `missing` or `ignore`: not counted (the state stays while too few datapoints remain).
    Missing,
}

impl MissingData {
    /// The PutMetricAlarm value's meaning.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "breaching" => Some(MissingData::Breaching),
            "notBreaching" => Some(MissingData::NotBreaching),
            "missing" | "ignore" => Some(MissingData::Missing),
            _ => None,
        }
    }
}

/// Whether an alarm with `datapoints_to_alarm` of `evaluation_periods` is in ALARM after the newest period of
/// `values` (compared with `threshold` by `comparison`, PutMetricAlarm's names). With `Missing`, the evaluation
/// range reaches back past missing periods for up to `evaluation_periods` present ones, as the user guide describes.
pub fn in_alarm(
    values: &[Option<f64>],
    comparison: &str,
    threshold: f64,
    evaluation_periods: usize,
    datapoints_to_alarm: usize,
    missing: MissingData,
) -> bool {
    let breaches = |v: f64| match comparison {
        "GreaterThanThreshold" => v > threshold,
        "GreaterThanOrEqualToThreshold" => v >= threshold,
        "LessThanThreshold" => v < threshold,
        "LessThanOrEqualToThreshold" => v <= threshold,
        _ => false,
    };
    let considered: Vec<bool> = match missing {
        MissingData::Missing => values
            .iter()
            .rev()
            .flatten()
            .take(evaluation_periods)
            .map(|v| breaches(*v))
            .collect(),
        _ => values
            .iter()
            .rev()
            .take(evaluation_periods)
            .map(|v| match v {
                Some(v) => breaches(*v),
                None => missing == MissingData::Breaching,
            })
            .collect(),
    };
    considered.iter().filter(|b| **b).count() >= datapoints_to_alarm
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(pairs: &[(&str, Series)]) -> BTreeMap<String, Series> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn arithmetic_fill_and_if_follow_the_user_guide() {
        let i = inputs(&[
            ("m1", vec![Some(10.0), None, Some(4.0)]),
            ("n", vec![Some(2.0), None, Some(0.0)]),
        ]);
        assert_eq!(
            evaluate("IF(FILL(n, 0) > 0, m1 / n, 7)", &i, 3).expect("valid"),
            vec![Some(5.0), Some(7.0), Some(7.0)]
        );
        // A missing input makes the result missing, unless filled.
        assert_eq!(
            evaluate("m1 + n", &i, 3).expect("valid"),
            vec![Some(12.0), None, Some(4.0)]
        );
        assert_eq!(
            evaluate("2 * (1 + FILL(n, 3))", &i, 3).expect("valid"),
            vec![Some(6.0), Some(8.0), Some(2.0)]
        );
        assert!(evaluate("AVG(m1)", &i, 3).is_err());
        assert!(evaluate("m1 +", &i, 3).is_err());
    }

    #[test]
    fn alarms_count_missing_data_as_told() {
        let v = vec![Some(1.0), None, None];
        let check = |m| in_alarm(&v, "GreaterThanThreshold", 0.0, 2, 2, m);
        assert!(check(MissingData::Breaching));
        assert!(!check(MissingData::NotBreaching));
        // Missing: the evaluation reaches back to the one present datapoint: 1 of 2 needed.
        assert!(!check(MissingData::Missing));
        assert!(in_alarm(
            &v,
            "GreaterThanThreshold",
            0.0,
            1,
            1,
            MissingData::Missing
        ));
    }
}
