//! Which work the queue-processor does with a message: the blueprint's demo, or the user's own application in any
//! language, reached over HTTP on localhost (Elastic Beanstalk's sqsd convention) or run as a command per message.

use serde::Serialize;

use super::*;

/// What the worker does with each message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum WorkMode {
    /// The blueprint's demo: sleep for the message's `duration`. Bodies must be `{"id":…,"duration":…}`; any other
    /// body is left for the DLQ.
    Sleep,
    /// POST each body to the application in the same task.
    Http(HttpApp),
    /// Run a command per message with the body on standard input.
    Exec(ExecApp),
}

impl WorkMode {
    /// The mode's name, as `WORK_MODE` spells it.
    pub fn name(&self) -> &'static str {
        match self {
            WorkMode::Sleep => "sleep",
            WorkMode::Http(_) => "http",
            WorkMode::Exec(_) => "exec",
        }
    }
}

/// The application reached over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpApp {
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Path each message is POSTed to (starts with `/`).
    pub path: String,
    /// `Content-Type` of the POST.
    pub content_type: String,
    /// Path answering 2xx when the application is ready; without it, readiness is an accepted TCP connection.
    pub health_path: Option<String>,
    /// Longest a message's request may take, seconds; then it is abandoned and the message retried.
    pub timeout_secs: u32,
    /// Seconds between readiness checks while the application is ready (1 s while it is not).
    pub health_interval_secs: u32,
}

/// The command run per message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecApp {
    /// Program and arguments (no shell).
    pub command: Vec<String>,
    /// Optional readiness command: exit 0 means ready. Without it, the program must exist and be executable.
    pub health_command: Option<Vec<String>>,
    /// Longest a message's command may run, seconds; then it is killed and the message retried.
    pub timeout_secs: u32,
    /// Seconds between readiness checks while ready (1 s while not).
    pub health_interval_secs: u32,
}

/// `WORK_MODE`.
pub const WORK_MODE: &str = "WORK_MODE";
/// `APP_PORT`.
pub const APP_PORT: &str = "APP_PORT";
/// `APP_COMMAND`.
pub const APP_COMMAND: &str = "APP_COMMAND";

const PORT: Number<u32> = Number {
    name: APP_PORT,
    default: 8080,
    min: 1,
    max: 65_535,
    meaning: "http mode: the application's port on 127.0.0.1",
};

const PATH: Text = Text {
    name: "APP_PATH",
    default: "/",
    meaning: "http mode: path each message is POSTed to",
};

const CONTENT_TYPE: Text = Text {
    name: "APP_CONTENT_TYPE",
    default: "application/json",
    meaning: "http mode: Content-Type of each POST",
};

const HEALTH_PATH: &str = "APP_HEALTH_PATH";
const HEALTH_COMMAND: &str = "APP_HEALTH_COMMAND";

const TIMEOUT: Number<u32> = Number {
    name: "APP_TIMEOUT_SECS",
    default: 900,
    min: 1,
    max: 43_200,
    meaning: "http and exec modes: longest one message's request or command may take before it is abandoned and the message retried",
};

const HEALTH_INTERVAL: Number<u32> = Number {
    name: "APP_HEALTH_INTERVAL_SECS",
    default: 5,
    min: 1,
    max: 300,
    meaning: "http and exec modes: seconds between readiness checks while the application is ready (every second while it is not)",
};

/// Every variable of the work mode.
pub(super) fn docs() -> Vec<VarDoc> {
    vec![
        VarDoc::new(
            WORK_MODE,
            "sleep",
            "what each message is given to: `sleep` (the blueprint's demo: sleep for its `duration`), `http` (POST to the application on 127.0.0.1) or `exec` (run `APP_COMMAND` with the body on standard input)",
        ),
        PORT.doc(),
        PATH.doc(),
        CONTENT_TYPE.doc(),
        VarDoc::new(
            HEALTH_PATH,
            "unset",
            "http mode: path answering 2xx when the application is ready; unset = ready once its port accepts a connection",
        ),
        VarDoc::new(
            APP_COMMAND,
            "required in exec mode",
            "exec mode: the command run per message, as a JSON array (`[\"python3\",\"/app/work.py\"]`) or words separated by spaces; no shell",
        ),
        VarDoc::new(
            HEALTH_COMMAND,
            "unset",
            "exec mode: a command that exits 0 when the application is ready; unset = ready when `APP_COMMAND`'s program exists",
        ),
        TIMEOUT.doc(),
        HEALTH_INTERVAL.doc(),
    ]
}

impl<E: EnvSource + ?Sized> Reader<'_, E> {
    /// Reads `WORK_MODE` and the settings of its mode.
    pub(super) fn work_mode(&self) -> Result<WorkMode, ConfigError> {
        let mode = self.raw(WORK_MODE);
        match mode.as_deref().map(str::trim) {
            None | Some("sleep") => Ok(WorkMode::Sleep),
            Some("http") => Ok(WorkMode::Http(HttpApp {
                port: u16::try_from(self.number_var(&PORT)?).unwrap_or(u16::MAX),
                path: self
                    .url_path(PATH.name, Some(self.text_var(&PATH)))?
                    .unwrap_or_default(),
                content_type: self.text_var(&CONTENT_TYPE),
                health_path: self.url_path(HEALTH_PATH, self.raw(HEALTH_PATH))?,
                timeout_secs: self.number_var(&TIMEOUT)?,
                health_interval_secs: self.number_var(&HEALTH_INTERVAL)?,
            })),
            Some("exec") => Ok(WorkMode::Exec(ExecApp {
                command: self
                    .command(APP_COMMAND, self.raw(APP_COMMAND))?
                    .ok_or_else(|| {
                        config_error(
                            APP_COMMAND,
                            None,
                            "exec mode needs the command to run per message",
                        )
                    })?,
                health_command: self.command(HEALTH_COMMAND, self.raw(HEALTH_COMMAND))?,
                timeout_secs: self.number_var(&TIMEOUT)?,
                health_interval_secs: self.number_var(&HEALTH_INTERVAL)?,
            })),
            Some(_) => Err(config_error(
                WORK_MODE,
                mode,
                "expected one of: sleep, http, exec",
            )),
        }
    }

    fn url_path(&self, name: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
        match value {
            None => Ok(None),
            Some(p) => {
                let p = p.trim().to_string();
                if p.starts_with('/') && !p.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    Ok(Some(p))
                } else {
                    Err(config_error(
                        name,
                        Some(p),
                        "expected a path starting with `/`, without spaces",
                    ))
                }
            }
        }
    }

    fn command(
        &self,
        name: &str,
        value: Option<String>,
    ) -> Result<Option<Vec<String>>, ConfigError> {
        value.map(|raw| parse_command(name, &raw)).transpose()
    }
}

/// A command as `APP_COMMAND` takes it: a JSON array of strings, or words separated by spaces (no shell, no
/// quoting). The error names `variable`.
pub fn parse_command(variable: &str, raw: &str) -> Result<Vec<String>, ConfigError> {
    let words: Vec<String> = if raw.trim_start().starts_with('[') {
        serde_json::from_str(raw).map_err(|e| {
            config_error(
                variable,
                Some(raw.to_string()),
                format!("expected a JSON array of strings: {e}"),
            )
        })?
    } else {
        raw.split_whitespace().map(str::to_string).collect()
    };
    if words.first().is_none_or(|w| w.trim().is_empty()) {
        return Err(config_error(
            variable,
            Some(raw.to_string()),
            "the command names no program",
        ));
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(vars: &[(&str, &str)]) -> Result<WorkMode, ConfigError> {
        let env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        Reader { env: &env }.work_mode()
    }

    #[test]
    fn the_demo_is_the_default() {
        assert_eq!(mode(&[]), Ok(WorkMode::Sleep));
        assert_eq!(mode(&[(WORK_MODE, "")]), Ok(WorkMode::Sleep));
    }

    #[test]
    fn http_mode_reads_the_application_settings() {
        let m = mode(&[
            (WORK_MODE, "http"),
            (APP_PORT, "9000"),
            ("APP_PATH", "/jobs"),
            (HEALTH_PATH, "/healthz"),
        ])
        .expect("valid");
        assert_eq!(
            m,
            WorkMode::Http(HttpApp {
                port: 9000,
                path: "/jobs".into(),
                content_type: "application/json".into(),
                health_path: Some("/healthz".into()),
                timeout_secs: 900,
                health_interval_secs: 5,
            })
        );
    }

    #[test]
    fn exec_mode_takes_a_json_array_or_words() {
        let WorkMode::Exec(a) = mode(&[
            (WORK_MODE, "exec"),
            (APP_COMMAND, r#"["python3","-c","print(1)"]"#),
        ])
        .expect("valid") else {
            panic!("exec expected")
        };
        assert_eq!(a.command, ["python3", "-c", "print(1)"]);
        let WorkMode::Exec(b) =
            mode(&[(WORK_MODE, "exec"), (APP_COMMAND, "/app/work --fast")]).expect("valid")
        else {
            panic!("exec expected")
        };
        assert_eq!(b.command, ["/app/work", "--fast"]);
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[(WORK_MODE, "lambda")], WORK_MODE),
            (&[(WORK_MODE, "exec")], APP_COMMAND),
            (
                &[(WORK_MODE, "exec"), (APP_COMMAND, "[\"a\",")],
                APP_COMMAND,
            ),
            (&[(WORK_MODE, "exec"), (APP_COMMAND, "[]")], APP_COMMAND),
            (&[(WORK_MODE, "http"), (APP_PORT, "70000")], APP_PORT),
            (
                &[(WORK_MODE, "http"), (HEALTH_PATH, "healthz")],
                HEALTH_PATH,
            ),
        ];
        for (vars, variable) in cases {
            let e = mode(vars).expect_err("invalid");
            assert_eq!(e.variable, variable, "{vars:?}: {e}");
        }
    }
}
