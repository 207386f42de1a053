//! SSM Parameter Store: the fleet sampler's registry of services (core's [`bpi_core::fleet`]), one String parameter
//! per service under a path.

use aws_sdk_ssm::types::{ParameterTier, ParameterType};

use crate::error::AwsError;

/// One parameter: its full name and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// The full name (`/ecs-sqs-bpi/services/CLUSTER/SERVICE`).
    pub name: String,
    /// The value as stored.
    pub value: String,
}

/// Every parameter under `path`, recursively, following NextToken; returns them with the pages read (the calls
/// made, for the run record's call counts).
pub async fn parameters_under(
    client: &aws_sdk_ssm::Client,
    path: &str,
) -> Result<(Vec<Parameter>, u64), AwsError> {
    const OP: &str = "ssm:GetParametersByPath";
    let mut found = Vec::new();
    let mut pages = 0;
    let mut next: Option<String> = None;
    loop {
        let out = client
            .get_parameters_by_path()
            .path(path)
            .recursive(true)
            .max_results(i32::try_from(bpi_core::fleet::PARAMETERS_PER_PAGE).unwrap_or(10))
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        pages += 1;
        found.extend(out.parameters().iter().filter_map(|p| {
            Some(Parameter {
                name: p.name()?.to_string(),
                value: p.value()?.to_string(),
            })
        }));
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((found, pages))
}

/// The value of `name`, or None when there is none.
pub async fn parameter(
    client: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<Option<String>, AwsError> {
    match client.get_parameter().name(name).send().await {
        Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_string)),
        Err(e) => {
            let e = AwsError::from_sdk("ssm:GetParameter", e);
            e.ignore_not_found().map(|()| None)
        }
    }
}

/// Writes `name` as a Standard-tier String parameter (free; values up to 4 KB), replacing its value.
pub async fn put_parameter(
    client: &aws_sdk_ssm::Client,
    name: &str,
    value: &str,
    description: &str,
) -> Result<(), AwsError> {
    client
        .put_parameter()
        .name(name)
        .value(value)
        .description(description)
        .r#type(ParameterType::String)
        .tier(ParameterTier::Standard)
        .overwrite(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ssm:PutParameter", e))?;
    Ok(())
}

/// Deletes `name`; true when it existed.
pub async fn delete_parameter(client: &aws_sdk_ssm::Client, name: &str) -> Result<bool, AwsError> {
    match client.delete_parameter().name(name).send().await {
        Ok(_) => Ok(true),
        Err(e) => AwsError::from_sdk("ssm:DeleteParameter", e)
            .ignore_not_found()
            .map(|()| false),
    }
}

/// The services of a registry: the entries taken, and the messages of those refused.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The services, as a single-service sampler would read them.
    pub services: Vec<bpi_core::config::SamplerConfig>,
    /// Each refused entry's message (it names the parameter and the setting).
    pub invalid: Vec<String>,
    /// The GetParametersByPath calls made.
    pub pages: u64,
}

/// Reads the registry under `path` (core's [`bpi_core::fleet`] format), with the fleet's readings per run and
/// interval. A refused entry is logged and left out; only a failed read fails.
pub async fn registry(
    client: &aws_sdk_ssm::Client,
    path: &str,
    readings_per_run: u32,
    reading_interval_secs: u32,
) -> Result<Registry, AwsError> {
    let (parameters, pages) = parameters_under(client, path).await?;
    let mut services = Vec::new();
    let mut invalid = Vec::new();
    for p in parameters {
        match bpi_core::fleet::parse_entry(
            path,
            &p.name,
            &p.value,
            readings_per_run,
            reading_interval_secs,
        ) {
            Ok(entry) => services.push(entry.config),
            Err(e) => {
                tracing::error!(error = %e, "registry entry refused; the other services are served");
                invalid.push(e.to_string());
            }
        }
    }
    Ok(Registry {
        services,
        invalid,
        pages,
    })
}
