//! The functions an engine runs: the order system's five, in process or as
//! separate processes, described by the SAM template or built in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use durable_engine::Engine;
use durable_engine::functions::{Function, FunctionConfig, FunctionHandler, Origin, in_process};
use durable_engine::process::{EnvironmentSink, LogSink, ProcessConfig, external};
use order_domain::Worker;
use order_functions::{
    CATALOG_VARIABLE, InventoryCheck, LATENCY_VARIABLE, LambdaWorkerClient, ParallelProcessor,
    PaymentValidation, ProcessorOptions, ShippingCalculation, TaxCalculation, WorkerFunction,
};
use serde_json::value::RawValue;

use crate::runtimes::Runtimes;
use crate::template::{self, Stack, TemplateFunction};

/// The SAM template this repository deploys, built into `orders`: the
/// order system `orders invoke` runs, and `orders serve` serves when there
/// is no template at hand, is the one deployed to AWS.
pub const TEMPLATE: &str = include_str!("../../../template.yaml");

/// The stack name the built-in template's functions are named for
/// (`orders-ParallelProcessor`), as `orders serve --stack-name` defaults.
pub const STACK_NAME: &str = "orders";

/// The cargo-lambda binaries of the order system, each runnable in process.
const PROCESSOR_BINARY: &str = "parallel-processor";

fn worker_binary(worker: Worker) -> &'static str {
    match worker {
        Worker::Inventory => "inventory-check",
        Worker::Payment => "payment-validation",
        Worker::Shipping => "shipping-calculation",
        Worker::Tax => "tax-calculation",
    }
}

/// Parses `WORKER=MS` (`inventory=0`, `payment=200`, …).
///
/// # Errors
///
/// When the worker or the number is not one.
pub fn parse_latency(text: &str) -> anyhow::Result<(Worker, Duration)> {
    let (worker, millis) = text
        .split_once('=')
        .with_context(|| format!("'{text}' is not WORKER=MILLISECONDS (e.g. shipping=125)"))?;
    let worker = Worker::ALL
        .into_iter()
        .find(|known| known.key() == worker || known.function_name() == worker)
        .with_context(|| {
            format!("unknown worker '{worker}': inventory, payment, shipping or tax")
        })?;
    let millis: u64 = millis
        .parse()
        .with_context(|| format!("'{millis}' is not a whole number of milliseconds"))?;
    Ok((worker, Duration::from_millis(millis)))
}

/// The order system as the built-in template describes it, for `stack`:
/// the orchestrator durable behind its alias, the workers with `latency`
/// (the template's when absent) and `catalog`.
///
/// # Errors
///
/// When the built-in template cannot be read (a build of `orders` from a
/// broken `template.yaml`).
pub fn built_in(
    stack: &Stack,
    latency: &BTreeMap<Worker, Duration>,
    catalog: Option<&PathBuf>,
) -> anyhow::Result<Vec<TemplateFunction>> {
    let mut functions = template::parse(
        TEMPLATE,
        "the built-in template.yaml",
        Path::new("."),
        stack,
    )?;
    for function in &mut functions {
        let worker = Worker::ALL
            .into_iter()
            .find(|worker| function.binary.as_deref() == Some(worker_binary(*worker)));
        if let Some(latency) = worker.and_then(|worker| latency.get(&worker)) {
            function
                .environment
                .insert(LATENCY_VARIABLE.to_owned(), latency.as_millis().to_string());
        }
        if let (Some(Worker::Inventory), Some(catalog)) = (worker, catalog) {
            function
                .environment
                .insert(CATALOG_VARIABLE.to_owned(), catalog.display().to_string());
        }
    }
    Ok(functions)
}

/// The order system, installed in an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSystem {
    /// The orchestrator's name (`orders-ParallelProcessor`).
    pub processor: String,
    /// The alias it is invoked through (`prod`).
    pub alias: String,
    /// Each worker's function name.
    pub workers: BTreeMap<Worker, String>,
}

impl OrderSystem {
    /// The request that starts an order with `input`.
    #[must_use]
    pub fn order(&self, input: Vec<u8>) -> durable_engine::StartRequest {
        durable_engine::StartRequest {
            function: self.processor.clone(),
            qualifier: Some(self.alias.clone()),
            name: None,
            input,
        }
    }
}

/// Installs the built-in order system in `engine`, every function in
/// process, the workers with `latency` (the template's when absent).
///
/// # Errors
///
/// When the built-in template cannot be read or a function configured.
pub fn install(
    engine: &Engine,
    latency: &BTreeMap<Worker, Duration>,
    catalog: Option<&PathBuf>,
) -> anyhow::Result<OrderSystem> {
    let stack = Stack::local(STACK_NAME, engine);
    let functions = built_in(&stack, latency, catalog)?;
    let (processor, alias) = processor(&functions)?;
    register(engine, &functions, &Hosting::default())?;
    let workers = Worker::ALL
        .into_iter()
        .filter_map(|worker| {
            functions
                .iter()
                .find(|function| function.binary.as_deref() == Some(worker_binary(worker)))
                .map(|function| (worker, function.name.clone()))
        })
        .collect();
    Ok(OrderSystem {
        processor,
        alias,
        workers,
    })
}

/// The orchestrator among `functions`, and the alias it is invoked through.
///
/// # Errors
///
/// When there is none, or it is not durable behind an alias.
pub fn processor(functions: &[TemplateFunction]) -> anyhow::Result<(String, String)> {
    let processor = functions
        .iter()
        .find(|function| function.binary.as_deref() == Some(PROCESSOR_BINARY))
        .context("the template has no function built from parallel-processor")?;
    let alias = processor
        .alias
        .clone()
        .filter(|_| processor.durable.is_some())
        .with_context(|| format!("{} is not durable behind an alias", processor.name))?;
    Ok((processor.name.clone(), alias))
}

/// How one function runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hosted {
    /// In the engine's process.
    InProcess,
    /// As this command, through the Runtime API.
    Process(Vec<String>),
}

/// How functions that run as processes are started.
#[derive(Clone)]
pub struct Hosting {
    /// Commands given by name (`--function NAME=COMMAND`).
    pub commands: BTreeMap<String, Vec<String>>,
    /// The engine's endpoint, which processes reach it at; `None` when it
    /// is not served (then every function must run in process).
    pub endpoint: Option<String>,
    /// Where runtimes come from.
    pub runtimes: Runtimes,
    /// Where the processes' output lines go.
    pub logs: Option<LogSink>,
    /// The most environments (processes) each function runs at once.
    pub max_environments: usize,
    /// How long an environment may wait for work before it is stopped.
    pub idle_timeout: Duration,
    /// Where the environments' events (cold starts, stops) go.
    pub events: Option<EnvironmentSink>,
}

impl Default for Hosting {
    fn default() -> Self {
        Self {
            commands: BTreeMap::new(),
            endpoint: None,
            runtimes: Runtimes::default(),
            logs: None,
            max_environments: usize::from(durable_engine::process::DEFAULT_MAX_ENVIRONMENTS),
            idle_timeout: durable_engine::process::DEFAULT_IDLE_TIMEOUT,
            events: None,
        }
    }
}

impl std::fmt::Debug for Hosting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hosting")
            .field("commands", &self.commands)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Registers `functions` in `engine`. A function named in
/// `hosting.commands` runs as that command; any other runs as its runtime
/// does on Lambda (see [`crate::runtimes`]), except the order system's own
/// binaries, which run in process when not built. Processes reach the
/// engine at `hosting.endpoint`.
///
/// # Errors
///
/// When a function cannot be run at all, naming it.
pub fn register(
    engine: &Engine,
    functions: &[TemplateFunction],
    hosting: &Hosting,
) -> anyhow::Result<Vec<(String, Hosted)>> {
    let mut hosted = Vec::new();
    for function in functions {
        let in_process = in_process_binary(function);
        let command = match hosting.commands.get(&function.name) {
            Some(command) => Some(command.clone()),
            None if hosting.endpoint.is_none() && in_process => None,
            None => hosting.runtimes.command(function, in_process)?,
        };
        let (handler, how) = match command {
            Some(command) => {
                let endpoint = hosting.endpoint.as_deref().with_context(|| {
                    format!(
                        "function {} runs as a process, which needs the engine served over HTTP",
                        function.name
                    )
                })?;
                let config = ProcessConfig {
                    code: hosting.runtimes.code(function, &command),
                    command: command.clone(),
                    directory: function.code.clone(),
                    environment: hosting.runtimes.environment(engine, function, endpoint),
                    timeout: function.timeout,
                    logs: hosting.logs.clone(),
                    max_environments: hosting.max_environments,
                    idle_timeout: hosting.idle_timeout,
                    events: hosting.events.clone(),
                };
                (external(&function.name, config), Hosted::Process(command))
            }
            None => (in_process_handler(engine, function)?, Hosted::InProcess),
        };
        let mut config = match function.durable {
            Some(durable) => FunctionConfig::durable(function.name.clone(), durable),
            None => FunctionConfig::plain(function.name.clone()),
        }
        .with_timeout(function.timeout);
        config.environment.clone_from(&function.environment);
        config.runtime.clone_from(&function.runtime);
        config.handler.clone_from(&function.handler);
        config.memory_mb = function.memory_mb;
        config.per_tenant = function.per_tenant;
        config.origin = Some(Origin {
            stack: function.stack.clone(),
            logical_id: function.logical_id.clone(),
        });
        if let Some(alias) = &function.alias {
            config = config.with_alias(alias.clone());
        }
        engine.register(Function::new(config, handler));
        hosted.push((function.name.clone(), how));
    }
    Ok(hosted)
}

/// Whether `function` is one of the order system's binaries, which run in
/// the engine's process.
fn in_process_binary(function: &TemplateFunction) -> bool {
    function.binary.as_deref().is_some_and(|binary| {
        binary == PROCESSOR_BINARY
            || Worker::ALL
                .iter()
                .any(|worker| worker_binary(*worker) == binary)
    })
}

fn worker<W: WorkerFunction>(function: W) -> Arc<dyn FunctionHandler> {
    let function = Arc::new(function);
    in_process(move |event: lambda_runtime::LambdaEvent<Box<RawValue>>| {
        let function = Arc::clone(&function);
        async move { Ok::<_, std::convert::Infallible>(function.handle(&event.payload).await) }
    })
}

/// The order system's function `function.binary`, in process, configured by
/// `function.environment` as its binary would be by its process environment.
fn in_process_handler(
    engine: &Engine,
    function: &TemplateFunction,
) -> anyhow::Result<Arc<dyn FunctionHandler>> {
    let environment = &function.environment;
    let context = || format!("function {}", function.name);
    let error = |error: lambda_runtime::Error| anyhow::anyhow!("{}: {error}", context());
    let handler = match function.binary.as_deref() {
        Some(PROCESSOR_BINARY) => {
            let options = ProcessorOptions::from_vars(environment).with_context(context)?;
            let lambda = durable_engine::transport::lambda_client(engine);
            let processor =
                ParallelProcessor::new(LambdaWorkerClient::new(lambda.clone()), options);
            let service = processor
                .into_service(lambda)
                .map_err(|error| anyhow::anyhow!("{}: {error}", context()))?;
            let service = Arc::new(service);
            in_process(
                move |event: lambda_runtime::LambdaEvent<
                    aws_durable_execution_sdk::InvocationPayload,
                >| {
                    let service = Arc::clone(&service);
                    async move { service(event).await }
                },
            )
        }
        Some("inventory-check") => worker(InventoryCheck::from_vars(environment).map_err(error)?),
        Some("payment-validation") => {
            worker(PaymentValidation::from_vars(environment).map_err(error)?)
        }
        Some("shipping-calculation") => {
            worker(ShippingCalculation::from_vars(environment).map_err(error)?)
        }
        Some("tax-calculation") => worker(TaxCalculation::from_vars(environment).map_err(error)?),
        other => anyhow::bail!(
            "function {}: no bootstrap in {} and no in-process handler for {}; build it (sam build) or give it a command",
            function.name,
            function.code.display(),
            other.map_or_else(
                || "a function without a cargo-lambda Binary".to_owned(),
                |binary| format!("binary {binary}")
            )
        ),
    };
    Ok(handler)
}
