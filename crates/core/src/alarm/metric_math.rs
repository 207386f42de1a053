//! CloudWatch metric math, for the expressions this project writes: the CloudWatch user guide's "Metric math syntax
//! and functions" for the subset used here: numbers, metric ids, `+ - * /`, comparisons (`== != > < >= <=`, 1 or
//! 0), `IF(c, a, b)` and `FILL(m, v)`. Series are aligned by period; an operation on a missing value is missing (a
//! time series has no datapoint there), except `FILL`, which replaces it.

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

/// An expression this evaluator cannot read or evaluate, with the place and the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("metric math: {0}")]
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
///
/// Each expression text is parsed once per thread and kept: the simulator evaluates the same few alarms millions
/// of times.
pub fn evaluate(
    expression: &str,
    inputs: &BTreeMap<String, Series>,
    periods: usize,
) -> Result<Series, ParseError> {
    thread_local! {
        static PARSED: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<Expr>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    let e = PARSED.with(|cache| -> Result<std::rc::Rc<Expr>, ParseError> {
        if let Some(e) = cache.borrow().get(expression) {
            return Ok(e.clone());
        }
        let e = std::rc::Rc::new(parse(expression)?);
        cache.borrow_mut().insert(expression.to_string(), e.clone());
        Ok(e)
    })?;
    (0..periods).map(|i| value(&e, inputs, i)).collect()
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
}
