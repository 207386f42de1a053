//! AWS's own request models, as botocore ships them (`botocore/data/SERVICE/VERSION/service-2.json.gz`, in the
//! project's virtualenv beside moto): a request the project builds is checked against the operation's input shape
//! (members, required members, types, enums, lengths and ranges), because moto accepts much that AWS refuses.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One service's model.
#[derive(Debug, Clone)]
pub struct ServiceModel {
    service: String,
    model: Value,
}

impl ServiceModel {
    /// The newest model of `service` (e.g. `cloudwatch`, `application-autoscaling`) in the virtualenv's botocore.
    /// Starts the emulator first if need be: that installs the virtualenv.
    pub fn load(service: &str) -> Self {
        crate::emulator();
        let python = crate::venv_bin("python");
        let script = "import botocore, glob, gzip, os, sys\n\
             d = sorted(glob.glob(os.path.join(os.path.dirname(botocore.__file__), 'data', sys.argv[1], '*')))[-1]\n\
             sys.stdout.write(gzip.open(os.path.join(d, 'service-2.json.gz')).read().decode())";
        let out = Command::new(&python)
            .args(["-c", script, service])
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
        assert!(
            out.status.success(),
            "botocore's {service} model: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ServiceModel {
            service: service.to_string(),
            model: serde_json::from_slice(&out.stdout).expect("the model is JSON"),
        }
    }

    /// Where the model came from, for messages.
    pub fn name(&self) -> &str {
        &self.service
    }

    /// What is wrong with `request` as the input of `operation` (empty: nothing).
    pub fn check(&self, operation: &str, request: &Value) -> Vec<String> {
        let shape = self.model["operations"][operation]["input"]["shape"]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no operation {operation}", self.service));
        let mut errors = Vec::new();
        self.check_shape(shape, request, &PathBuf::from(operation), &mut errors);
        errors
    }

    fn check_shape(&self, name: &str, value: &Value, path: &Path, errors: &mut Vec<String>) {
        let shape = &self.model["shapes"][name];
        let at = path.display();
        let range = |n: f64, errors: &mut Vec<String>, what: &str| {
            if let Some(min) = shape["min"].as_f64()
                && n < min
            {
                errors.push(format!("{at}: {what} {n} below the minimum {min} ({name})"));
            }
            if let Some(max) = shape["max"].as_f64()
                && n > max
            {
                errors.push(format!("{at}: {what} {n} above the maximum {max} ({name})"));
            }
        };
        match shape["type"].as_str() {
            Some("structure") => {
                let Some(fields) = value.as_object() else {
                    errors.push(format!("{at}: expected a structure ({name}), got {value}"));
                    return;
                };
                for required in shape["required"].as_array().into_iter().flatten() {
                    let required = required.as_str().unwrap_or_default();
                    if !fields.contains_key(required) {
                        errors.push(format!("{at}: required member {required} missing ({name})"));
                    }
                }
                for (member, v) in fields {
                    match shape["members"][member]["shape"].as_str() {
                        Some(s) => self.check_shape(s, v, &path.join(member), errors),
                        None => errors.push(format!("{at}: {name} has no member {member}")),
                    }
                }
            }
            Some("list") => {
                let Some(items) = value.as_array() else {
                    errors.push(format!("{at}: expected a list ({name}), got {value}"));
                    return;
                };
                range(items.len() as f64, errors, "length");
                let member = shape["member"]["shape"].as_str().unwrap_or_default();
                for (i, item) in items.iter().enumerate() {
                    self.check_shape(member, item, &path.join(i.to_string()), errors);
                }
            }
            Some("string") => {
                let Some(s) = value.as_str() else {
                    errors.push(format!("{at}: expected a string ({name}), got {value}"));
                    return;
                };
                if let Some(allowed) = shape["enum"].as_array()
                    && !allowed.iter().any(|a| a == s)
                {
                    errors.push(format!("{at}: '{s}' is not one of {allowed:?} ({name})"));
                }
                range(s.chars().count() as f64, errors, "length");
            }
            Some("integer" | "long") => match value.as_i64() {
                Some(n) => range(n as f64, errors, "value"),
                None => errors.push(format!("{at}: expected an integer ({name}), got {value}")),
            },
            Some("double" | "float") => match value.as_f64() {
                Some(n) => range(n, errors, "value"),
                None => errors.push(format!("{at}: expected a number ({name}), got {value}")),
            },
            Some("boolean") if !value.is_boolean() => {
                errors.push(format!("{at}: expected a boolean ({name}), got {value}"));
            }
            _ => {}
        }
    }
}
