//! Reading the SAM template: the functions, as the engine runs them.
//!
//! One file describes the application on AWS and locally. For each
//! `AWS::Serverless::Function` the engine takes its name, `DurableConfig`,
//! `AutoPublishAlias`, `Timeout`, environment (merged over `Globals`), and
//! where its code is. The intrinsic functions the template uses for these
//! (`!Sub`, `!GetAtt X.Arn`, `!Ref`) are resolved for a local stack, with
//! its `Parameters`' values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod env_vars;
mod parameters;
mod resolve;

pub use self::env_vars::EnvVars;
pub use self::parameters::parse_overrides;

use anyhow::Context as _;
use durable_engine::functions::DurableConfig;
use serde_yaml_ng::Value;

use self::resolve::Resolver;

/// The local stack the template is resolved for.
#[derive(Debug, Clone)]
pub struct Stack {
    /// `AWS::StackName`.
    pub name: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId`.
    pub account: String,
    /// The values given for the template's parameters
    /// (`--parameter-overrides`); the others take their `Default`.
    pub parameters: BTreeMap<String, String>,
}

impl Stack {
    /// The stack `name` in `engine`'s region and account.
    #[must_use]
    pub fn local(name: &str, engine: &durable_engine::Engine) -> Self {
        Self {
            name: name.to_owned(),
            region: engine.options().region.clone(),
            account: engine.options().account.clone(),
            parameters: BTreeMap::new(),
        }
    }
}

/// One function of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFunction {
    /// Its stack's name.
    pub stack: String,
    /// Its logical id (`ParallelProcessorFunction`).
    pub logical_id: String,
    /// Its name (`FunctionName`, resolved; the logical id when absent).
    pub name: String,
    /// The cargo-lambda binary it is built from, if any.
    pub binary: Option<String>,
    /// Its code: a directory (relative paths are the template's).
    pub code: PathBuf,
    /// `Runtime`.
    pub runtime: Option<String>,
    /// `Handler`.
    pub handler: Option<String>,
    /// `DurableConfig`, for a durable function.
    pub durable: Option<DurableConfig>,
    /// `AutoPublishAlias`.
    pub alias: Option<String>,
    /// `Timeout`.
    pub timeout: Duration,
    /// `MemorySize`, in MB.
    pub memory_mb: u32,
    /// `Environment.Variables`, over `Globals`.
    pub environment: BTreeMap<String, String>,
    /// `LoggingConfig`, over `Globals`.
    pub logging: Logging,
    /// Whether `TenancyConfig.TenantIsolationMode` is `PER_TENANT`.
    pub per_tenant: bool,
}

/// A function's `LoggingConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logging {
    /// `LogFormat`: `JSON` or `Text`.
    pub format: Option<String>,
    /// `ApplicationLogLevel`: `TRACE` … `FATAL`.
    pub application_level: Option<String>,
    /// `LogGroup`, when not `/aws/lambda/<FunctionName>`.
    pub group: Option<String>,
}

impl TemplateFunction {
    /// The function's `bootstrap`, when its code directory has one.
    #[must_use]
    pub fn bootstrap(&self) -> Option<PathBuf> {
        let path = self.code.join("bootstrap");
        path.is_file().then_some(path)
    }
}

/// Reads the functions of the SAM template at `path` for `stack`.
///
/// # Errors
///
/// When the file cannot be read or a function's properties cannot be
/// resolved, naming the function and the property.
pub fn load(path: &Path, stack: &Stack) -> anyhow::Result<Vec<TemplateFunction>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the template {}", path.display()))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&text, &path.display().to_string(), &base, stack)
}

/// Reads the functions of the SAM template `text` (named `source` in
/// errors), whose relative code paths are under `base`, for `stack`.
///
/// # Errors
///
/// As [`load`].
pub fn parse(
    text: &str,
    source: &str,
    base: &Path,
    stack: &Stack,
) -> anyhow::Result<Vec<TemplateFunction>> {
    let document: Value =
        serde_yaml_ng::from_str(text).with_context(|| format!("{source} is not YAML"))?;
    let resources = document
        .get("Resources")
        .and_then(Value::as_mapping)
        .with_context(|| format!("{source} has no Resources"))?;
    let globals = document
        .get("Globals")
        .and_then(|globals| globals.get("Function"));
    let parameters = parameters::values(&document, &stack.parameters)
        .with_context(|| format!("the parameters of {source}"))?;
    let others = Resolver::resources(resources, stack, &parameters);
    let names: BTreeMap<String, String> = resources
        .iter()
        .filter(|(_, resource)| is_function(resource))
        .filter_map(|(id, resource)| {
            let id = id.as_str()?.to_owned();
            Some((
                id.clone(),
                resource
                    .get("Properties")?
                    .get("FunctionName")
                    .cloned()
                    .unwrap_or(Value::String(id)),
            ))
        })
        .map(|(id, name)| {
            let resolver = Resolver {
                stack,
                parameters: &parameters,
                names: &BTreeMap::new(),
                resources: &others,
                text,
            };
            let name = resolver.resolve(&name).unwrap_or_else(|_| id.clone());
            (id, name)
        })
        .collect();
    let resolver = Resolver {
        stack,
        parameters: &parameters,
        names: &names,
        resources: &others,
        text,
    };
    let mut functions = Vec::new();
    for (id, resource) in resources {
        if !is_function(resource) {
            continue;
        }
        let id = id.as_str().unwrap_or_default().to_owned();
        let function = read_function(&id, resource, globals, &resolver, base)
            .with_context(|| format!("function {id} in {source}"))?;
        functions.push(function);
    }
    Ok(functions)
}

/// A function's `LoggingConfig`, each setting over `Globals`.
fn read_logging(
    properties: &Value,
    globals: Option<&Value>,
    resolver: &Resolver<'_>,
) -> anyhow::Result<Logging> {
    let setting = |key: &str| -> anyhow::Result<Option<String>> {
        properties
            .get("LoggingConfig")
            .and_then(|config| config.get(key))
            .or_else(|| {
                globals
                    .and_then(|globals| globals.get("LoggingConfig"))
                    .and_then(|config| config.get(key))
            })
            .map(|value| {
                resolver
                    .resolve(value)
                    .with_context(|| format!("property LoggingConfig.{key}"))
            })
            .transpose()
    };
    Ok(Logging {
        format: setting("LogFormat")?,
        application_level: setting("ApplicationLogLevel")?,
        group: setting("LogGroup")?,
    })
}

/// Whether `TenancyConfig` (if any) keeps each tenant apart.
fn read_tenancy(config: Option<&Value>, resolver: &Resolver<'_>) -> anyhow::Result<bool> {
    let Some(mode) = config.and_then(|config| config.get("TenantIsolationMode")) else {
        return Ok(false);
    };
    match resolver
        .resolve(mode)
        .context("property TenancyConfig.TenantIsolationMode")?
        .as_str()
    {
        "PER_TENANT" => Ok(true),
        other => {
            anyhow::bail!("TenancyConfig.TenantIsolationMode must be PER_TENANT, not {other}")
        }
    }
}

fn is_function(resource: &Value) -> bool {
    resource.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::Function")
}

fn read_function(
    id: &str,
    resource: &Value,
    globals: Option<&Value>,
    resolver: &Resolver<'_>,
    base: &Path,
) -> anyhow::Result<TemplateFunction> {
    let properties = resource.get("Properties").context("no Properties")?;
    let property = |key: &str| {
        properties
            .get(key)
            .or_else(|| globals.and_then(|globals| globals.get(key)))
    };
    let text = |key: &str| -> anyhow::Result<Option<String>> {
        property(key)
            .map(|value| {
                resolver
                    .resolve(value)
                    .with_context(|| format!("property {key}"))
            })
            .transpose()
    };
    let mut environment = BTreeMap::new();
    for source in [globals, Some(properties)].into_iter().flatten() {
        if let Some(variables) = source
            .get("Environment")
            .and_then(|env| env.get("Variables"))
            .and_then(Value::as_mapping)
        {
            for (name, value) in variables {
                let name = name
                    .as_str()
                    .context("an environment variable without a name")?;
                let value = resolver
                    .resolve(value)
                    .with_context(|| format!("environment variable {name}"))?;
                environment.insert(name.to_owned(), value);
            }
        }
    }
    let durable = property("DurableConfig")
        .map(|config| -> anyhow::Result<DurableConfig> {
            let number = |key: &str, default: i64| -> anyhow::Result<i64> {
                config.get(key).map_or(Ok(default), |value| {
                    value
                        .as_i64()
                        .with_context(|| format!("DurableConfig.{key} must be a whole number"))
                })
            };
            let defaults = DurableConfig::default();
            Ok(DurableConfig {
                execution_timeout: number("ExecutionTimeout", defaults.execution_timeout)?,
                retention_days: number("RetentionPeriodInDays", defaults.retention_days)?,
            })
        })
        .transpose()?;
    let timeout = match property("Timeout") {
        Some(value) => value
            .as_u64()
            .context("Timeout must be a whole number of seconds")?,
        None => 3,
    };
    let memory_mb = match property("MemorySize") {
        Some(value) => value
            .as_u64()
            .and_then(|mb| u32::try_from(mb).ok())
            .context("MemorySize must be a whole number of MB")?,
        None => durable_engine::functions::DEFAULT_MEMORY_MB,
    };
    let code = text("CodeUri")?.unwrap_or_else(|| ".".to_owned());
    let logging = read_logging(properties, globals, resolver)?;
    let per_tenant = read_tenancy(property("TenancyConfig"), resolver)?;
    Ok(TemplateFunction {
        stack: resolver.stack.name.clone(),
        logical_id: id.to_owned(),
        name: resolver
            .names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned()),
        binary: resource
            .get("Metadata")
            .and_then(|metadata| metadata.get("BuildProperties"))
            .and_then(|build| build.get("Binary"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        code: std::path::absolute(base.join(&code)).unwrap_or_else(|_| base.join(&code)),
        runtime: text("Runtime")?,
        handler: text("Handler")?,
        durable,
        alias: text("AutoPublishAlias")?,
        timeout: Duration::from_secs(timeout),
        memory_mb,
        environment,
        logging,
        per_tenant,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        Stack {
            name: "orders".to_owned(),
            region: "us-east-1".to_owned(),
            account: "000000000000".to_owned(),
            parameters: BTreeMap::new(),
        }
    }

    #[test]
    fn the_projects_template_describes_the_five_functions() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        let functions = load(&path, &stack()).unwrap();
        let names: Vec<&str> = functions
            .iter()
            .map(|function| function.name.as_str())
            .collect();
        assert_eq!(names.len(), 5);
        let processor = functions
            .iter()
            .find(|function| function.name == "orders-ParallelProcessor")
            .unwrap();
        assert_eq!(processor.binary.as_deref(), Some("parallel-processor"));
        assert_eq!(processor.alias.as_deref(), Some("prod"));
        assert_eq!(
            processor.durable,
            Some(DurableConfig {
                execution_timeout: 300,
                retention_days: 7
            })
        );
        assert_eq!(processor.timeout, Duration::from_mins(1));
        assert_eq!(
            processor
                .environment
                .get("PAYMENT_FUNCTION_ARN")
                .map(String::as_str),
            Some("arn:aws:lambda:us-east-1:000000000000:function:orders-PaymentValidation")
        );
        assert_eq!(
            processor.environment.get("RUST_LOG").map(String::as_str),
            Some("info"),
            "Globals merge in"
        );
        let inventory = functions
            .iter()
            .find(|function| function.name == "orders-InventoryCheck")
            .unwrap();
        assert_eq!(inventory.durable, None);
        assert_eq!(
            inventory
                .environment
                .get("SIMULATED_LATENCY_MS")
                .map(String::as_str),
            Some("150")
        );
        assert_eq!(inventory.timeout, Duration::from_secs(10));
    }

    #[test]
    fn the_long_forms_sam_build_writes_resolve_like_the_tags() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("template.yaml");
        std::fs::write(
            &path,
            r#"{"Resources": {
                "A": {"Type": "AWS::Serverless::Function", "Properties": {
                    "FunctionName": {"Fn::Sub": "${AWS::StackName}-A"},
                    "Environment": {"Variables": {
                        "B_ARN": {"Fn::GetAtt": ["B", "Arn"]},
                        "B_NAME": {"Ref": "B"},
                        "JOINED": {"Fn::Join": ["-", ["x", {"Ref": "AWS::Region"}]]}}}}},
                "B": {"Type": "AWS::Serverless::Function", "Properties": {}}}}"#,
        )
        .unwrap();
        let functions = load(&path, &stack()).unwrap();
        let a = functions
            .iter()
            .find(|function| function.logical_id == "A")
            .unwrap();
        assert_eq!(a.name, "orders-A");
        assert_eq!(
            a.environment["B_ARN"],
            "arn:aws:lambda:us-east-1:000000000000:function:B"
        );
        assert_eq!(a.environment["B_NAME"], "B");
        assert_eq!(a.environment["JOINED"], "x-us-east-1");
    }

    #[test]
    fn an_unresolvable_reference_names_the_function_and_property() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("template.yaml");
        std::fs::write(
            &path,
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          X: !GetAtt Bucket.DomainName\n",
        )
        .unwrap();
        let error = format!("{:#}", load(&path, &stack()).unwrap_err());
        assert!(error.contains("function F"), "{error}");
        assert!(error.contains("environment variable X"), "{error}");
    }

    #[test]
    fn other_resources_resolve_as_cloudformation_resolves_them() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("template.yaml");
        std::fs::write(
            &path,
            "Resources:
  Attempts:
    Type: AWS::DynamoDB::Table
  Named:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub ${AWS::StackName}-named
  Jobs:
    Type: AWS::SQS::Queue
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          TABLE: !Ref Attempts
          TABLE_ARN: !GetAtt Attempts.Arn
          NAMED: !Ref Named
          QUEUE_URL: !Ref Jobs
          QUEUE_ARN: !Sub ${Jobs.Arn}
",
        )
        .unwrap();
        let functions = load(&path, &stack()).unwrap();
        let environment = &functions[0].environment;
        assert!(
            environment["TABLE"].starts_with("orders-Attempts-"),
            "{environment:?}"
        );
        assert_eq!(
            environment["TABLE_ARN"],
            format!(
                "arn:aws:dynamodb:us-east-1:000000000000:table/{}",
                environment["TABLE"]
            )
        );
        assert_eq!(environment["NAMED"], "orders-named");
        assert!(
            environment["QUEUE_URL"]
                .starts_with("https://sqs.us-east-1.amazonaws.com/000000000000/orders-Jobs-")
        );
        assert!(
            environment["QUEUE_ARN"].starts_with("arn:aws:sqs:us-east-1:000000000000:orders-Jobs-")
        );
        let again = load(&path, &stack()).unwrap();
        assert_eq!(
            again[0].environment["TABLE"], environment["TABLE"],
            "the same name on every start"
        );
    }

    #[test]
    fn a_reference_to_nothing_names_its_line() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("template.yaml");
        std::fs::write(
            &path,
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          TABLE: !Ref AttemptsTable\n",
        )
        .unwrap();
        let error = format!("{:#}", load(&path, &stack()).unwrap_err());
        assert!(
            error.contains("line 7: AttemptsTable is not a resource or parameter of the template"),
            "{error}"
        );
    }

    #[test]
    fn parameters_resolve_by_ref_and_sub_with_their_defaults_or_given_values() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("template.yaml");
        std::fs::write(
            &path,
            "Parameters:
  Greeting:
    Type: String
    Default: x
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub ${AWS::StackName}-${Stage}-F
      Environment:
        Variables:
          GREETING: !Ref Greeting
          TABLE: !Sub table-${Stage}
          LONG: {\"Fn::Sub\": \"${Greeting}/${Stage}\"}
          LOCAL: !Sub ['${Prefix}-${Stage}-${!Literal}', {Prefix: !Ref Greeting}]
",
        )
        .unwrap();
        let defaults = load(&path, &stack()).unwrap();
        let environment = &defaults[0].environment;
        assert_eq!(defaults[0].name, "orders-dev-F");
        assert_eq!(environment["GREETING"], "x");
        assert_eq!(environment["TABLE"], "table-dev");
        assert_eq!(environment["LONG"], "x/dev");
        assert_eq!(environment["LOCAL"], "x-dev-${Literal}");
        let mut given = stack();
        given.parameters = BTreeMap::from([
            ("Stage".to_owned(), "prod".to_owned()),
            ("Greeting".to_owned(), "hello".to_owned()),
        ]);
        let chosen = load(&path, &given).unwrap();
        assert_eq!(chosen[0].name, "orders-prod-F");
        assert_eq!(chosen[0].environment["GREETING"], "hello");
        given
            .parameters
            .insert("Stage".to_owned(), "test".to_owned());
        let error = format!("{:#}", load(&path, &given).unwrap_err());
        assert!(
            error.contains("Parameter 'Stage' must be one of AllowedValues (dev, prod)"),
            "{error}"
        );
    }
}
