//! Lambda's managed runtimes, started locally: the command that runs a
//! function given its `Runtime` and `Handler`, and the execution
//! environment Lambda gives it.
//!
//! - `provided.*`: the `bootstrap` in the function's code directory; for a
//!   cargo-lambda function (`BuildProperties.Binary`) not built by `sam
//!   build`, the binary `cargo build` made in the nearest `target/` above
//!   its code (the order system's own binaries run in the engine's process
//!   instead).
//! - `python3.*`: the runtime interface client, `python3 -m awslambdaric`.
//! - `nodejs*`: npm's `aws-lambda-ric` when it can be found beside the
//!   function (or `--node-ric` names it), otherwise the Node runtime loop
//!   `orders` ships (`runtimes/node.mjs`), under `node`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use durable_engine::Engine;

use crate::template::TemplateFunction;

/// The binary `cargo build` made of `function`'s cargo-lambda `Binary`:
/// in the nearest `target/` above its code (or `CARGO_TARGET_DIR`), the
/// newest of its release and debug builds.
fn cargo_built(function: &TemplateFunction) -> Option<PathBuf> {
    let binary = function.binary.as_deref()?;
    let targets: Vec<PathBuf> = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(function.code.ancestors().map(|dir| dir.join("target")))
        .collect();
    let target = targets.into_iter().find(|dir| dir.is_dir())?;
    ["release", "debug"]
        .into_iter()
        .map(|profile| target.join(profile).join(binary))
        .filter_map(|path| {
            let built = std::fs::metadata(&path).ok()?.modified().ok()?;
            path.is_file().then_some((built, path))
        })
        .max_by_key(|(built, _)| *built)
        .map(|(_, path)| path)
}

/// The Node runtime loop `orders` ships.
const NODE_RUNTIME: &str = include_str!("../runtimes/node.mjs");

/// Where runtimes come from, beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Runtimes {
    /// npm's `aws-lambda-ric` package directory, for every Node function.
    pub node_ric: Option<PathBuf>,
    /// Where the runtime files `orders` ships are written
    /// (`LAMBDA_RUNTIME_DIR`).
    pub directory: PathBuf,
}

impl Runtimes {
    /// The defaults, with the shipped files under `directory`.
    #[must_use]
    pub fn in_directory(directory: PathBuf) -> Self {
        Self {
            node_ric: None,
            directory,
        }
    }

    /// Writes the Node runtime loop under [`Runtimes::directory`], once.
    fn node_runtime(&self) -> anyhow::Result<PathBuf> {
        let path = self.directory.join("node.mjs");
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() != Some(NODE_RUNTIME) {
            std::fs::create_dir_all(&self.directory)
                .with_context(|| format!("cannot create {}", self.directory.display()))?;
            std::fs::write(&path, NODE_RUNTIME)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(path)
    }

    /// The command that runs `function` as a process; `None` for a
    /// `provided.*` function without a bootstrap that runs in the engine's
    /// process.
    ///
    /// # Errors
    ///
    /// For a runtime that cannot be started, naming `--function`.
    pub fn command(
        &self,
        function: &TemplateFunction,
        in_process: bool,
    ) -> anyhow::Result<Option<Vec<String>>> {
        let runtime = function.runtime.as_deref().unwrap_or("provided.al2023");
        let handler = function.handler.clone().unwrap_or_default();
        if let Some(bootstrap) = function.bootstrap() {
            return Ok(Some(vec![bootstrap.display().to_string()]));
        }
        if runtime.starts_with("provided") {
            if !in_process && let Some(binary) = cargo_built(function) {
                return Ok(Some(vec![binary.display().to_string()]));
            }
            anyhow::ensure!(
                in_process,
                "function {}: runtime {runtime} needs a bootstrap in {} (build it with sam build), or --function {}=COMMAND",
                function.name,
                function.code.display(),
                function.name
            );
            return Ok(None);
        }
        if runtime.starts_with("python") {
            return Ok(Some(vec![
                "python3".to_owned(),
                "-m".to_owned(),
                "awslambdaric".to_owned(),
                handler,
            ]));
        }
        if runtime.starts_with("nodejs") {
            let client = match self
                .node_ric
                .clone()
                .or_else(|| find_node_ric(&function.code))
            {
                Some(package) => node_ric_entry(&package)?,
                None => self.node_runtime()?,
            };
            return Ok(Some(vec![
                "node".to_owned(),
                client.display().to_string(),
                handler,
            ]));
        }
        anyhow::bail!(
            "function {}: runtime {runtime} is not started by orders serve; give its command with --function {}=COMMAND (a Lambda runtime interface client for it)",
            function.name,
            function.name
        )
    }

    /// What `function`, run as `command`, runs: the program itself when it
    /// is a built binary (a bootstrap, a cargo build's), else the code
    /// directory its runtime reads. A change to it replaces the warm
    /// environments.
    #[must_use]
    pub fn code(&self, function: &TemplateFunction, command: &[String]) -> Vec<PathBuf> {
        match command.first().map(PathBuf::from) {
            Some(program) if program.is_absolute() && program.is_file() => vec![program],
            _ => vec![function.code.clone()],
        }
    }

    /// The environment Lambda gives `function` (its reserved variables,
    /// then the template's `Environment`), with the engine at `endpoint`.
    #[must_use]
    pub fn environment(
        &self,
        engine: &Engine,
        function: &TemplateFunction,
        endpoint: &str,
    ) -> BTreeMap<String, String> {
        let region = engine.options().region.clone();
        let runtime = function.runtime.clone().unwrap_or_default();
        let version = "$LATEST";
        let mut environment: BTreeMap<String, String> = BTreeMap::new();
        // What a process needs to run at all locally, the user's own.
        for inherited in [
            "PATH",
            "HOME",
            "USER",
            "TMPDIR",
            "LD_LIBRARY_PATH",
            "VIRTUAL_ENV",
        ] {
            if let Ok(value) = std::env::var(inherited) {
                environment.insert(inherited.to_owned(), value);
            }
        }
        environment.extend([
            ("LANG".to_owned(), "en_US.UTF-8".to_owned()),
            ("TZ".to_owned(), ":UTC".to_owned()),
        ]);
        // Where the AWS SDKs find other services (a local DynamoDB, …): the
        // host's, so a function reaches what the developer runs beside it.
        // Lambda's own endpoint is the engine, set below.
        environment.extend(std::env::vars().filter(|(name, _)| is_endpoint_variable(name)));
        environment.extend(function.environment.clone());
        let group = function
            .logging
            .group
            .clone()
            .unwrap_or_else(|| format!("/aws/lambda/{}", function.name));
        let stream = log_stream_name(engine, version);
        let mut reserved = vec![
            ("_HANDLER", function.handler.clone().unwrap_or_default()),
            ("AWS_REGION", region.clone()),
            ("AWS_DEFAULT_REGION", region),
            ("AWS_LAMBDA_FUNCTION_NAME", function.name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", version.to_owned()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                function.memory_mb.to_string(),
            ),
            (
                "AWS_LAMBDA_FUNCTION_TIMEOUT",
                function.timeout.as_secs().to_string(),
            ),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", group),
            ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
            ("LAMBDA_TASK_ROOT", function.code.display().to_string()),
            ("LAMBDA_RUNTIME_DIR", self.directory.display().to_string()),
            ("AWS_ACCESS_KEY_ID", "local".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
            ("AWS_SESSION_TOKEN", "local".to_owned()),
            ("AWS_ENDPOINT_URL_LAMBDA", endpoint.to_owned()),
        ];
        if !runtime.starts_with("provided") && !runtime.is_empty() {
            reserved.push(("AWS_EXECUTION_ENV", format!("AWS_Lambda_{runtime}")));
        }
        if let Some(format) = &function.logging.format {
            reserved.push(("AWS_LAMBDA_LOG_FORMAT", format.clone()));
        }
        if let Some(level) = &function.logging.application_level {
            reserved.push(("AWS_LAMBDA_LOG_LEVEL", level.clone()));
        }
        // Reserved variables win over the template's, as on Lambda.
        environment.extend(
            reserved
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value)),
        );
        environment
    }
}

/// Whether the host's variable `name` tells the AWS SDKs where a service
/// other than Lambda is: `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.
fn is_endpoint_variable(name: &str) -> bool {
    name == "AWS_ENDPOINT_URL"
        || name
            .strip_prefix("AWS_ENDPOINT_URL_")
            .is_some_and(|service| !service.is_empty() && service != "LAMBDA")
}

/// `YYYY/MM/DD/[VERSION]` and 32 hex digits, one per process, as Lambda
/// names a log stream.
fn log_stream_name(engine: &Engine, version: &str) -> String {
    let today =
        order_domain::Moment::from_epoch_ms(u64::try_from(engine.now().millis()).unwrap_or(0))
            .to_rfc3339();
    let day = today.get(..10).unwrap_or("1970-01-01").replace('-', "/");
    format!("{day}/[{version}]{}", uuid::Uuid::new_v4().simple())
}

/// npm's `aws-lambda-ric` installed beside `code` (in its or a parent's
/// `node_modules`).
fn find_node_ric(code: &Path) -> Option<PathBuf> {
    code.ancestors()
        .map(|directory| directory.join("node_modules").join("aws-lambda-ric"))
        .find(|package| package.join("package.json").is_file())
}

/// The entry point of the `aws-lambda-ric` package at `package`: its
/// `bin`.
fn node_ric_entry(package: &Path) -> anyhow::Result<PathBuf> {
    let manifest = package.join("package.json");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let manifest_json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", manifest.display()))?;
    let bin = match manifest_json.get("bin") {
        Some(serde_json::Value::String(bin)) => Some(bin.clone()),
        Some(serde_json::Value::Object(bins)) => bins
            .get("aws-lambda-ric")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
    .with_context(|| format!("{} names no aws-lambda-ric binary", manifest.display()))?;
    Ok(package.join(bin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_services_endpoint_but_lambdas_passes_through() {
        assert!(is_endpoint_variable("AWS_ENDPOINT_URL"));
        assert!(is_endpoint_variable("AWS_ENDPOINT_URL_DYNAMODB"));
        assert!(is_endpoint_variable("AWS_ENDPOINT_URL_S3"));
        assert!(!is_endpoint_variable("AWS_ENDPOINT_URL_LAMBDA"));
        assert!(!is_endpoint_variable("AWS_ENDPOINT_URL_"));
        assert!(!is_endpoint_variable("AWS_REGION"));
    }
}
