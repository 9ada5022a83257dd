//! The order system, registered in the engine's process.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use durable_engine::Engine;
use durable_engine::functions::{
    DurableConfig, Function, FunctionConfig, FunctionHandler, in_process,
};
use order_domain::Worker;
use order_domain::inventory::Catalog;
use order_functions::{
    InventoryCheck, LambdaWorkerClient, ParallelProcessor, PaymentValidation, ProcessorOptions,
    ShippingCalculation, TaxCalculation, WorkerFunction, WorkerFunctions, default_latency,
};
use serde_json::value::RawValue;

/// The orchestrator's name.
pub const PROCESSOR: &str = "ParallelProcessor";

/// The alias the orchestrator is invoked through.
pub const ALIAS: &str = "prod";

/// How the in-process workers behave.
#[derive(Debug, Clone, Default)]
pub struct WorkerSettings {
    /// Simulated latency per worker (the seed's when absent).
    pub latency: BTreeMap<Worker, Duration>,
    /// A catalog replacing the built-in one.
    pub catalog: Option<Catalog>,
}

impl WorkerSettings {
    fn latency(&self, worker: Worker) -> Duration {
        self.latency
            .get(&worker)
            .copied()
            .unwrap_or_else(|| default_latency(worker))
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

fn worker<W: WorkerFunction>(function: W) -> Arc<dyn FunctionHandler> {
    let function = Arc::new(function);
    in_process(move |event: lambda_runtime::LambdaEvent<Box<RawValue>>| {
        let function = Arc::clone(&function);
        async move { Ok::<_, std::convert::Infallible>(function.handle(&event.payload).await) }
    })
}

/// Registers the five functions of the order system in `engine`: the
/// orchestrator (durable, alias `prod`, its Lambda client pointed at the
/// engine) and the four workers.
///
/// # Errors
///
/// When the orchestrator cannot be built.
pub fn register(engine: &Engine, settings: &WorkerSettings) -> anyhow::Result<()> {
    let lambda = durable_engine::transport::lambda_client(engine);
    let processor = ParallelProcessor::new(
        LambdaWorkerClient::new(lambda.clone()),
        ProcessorOptions::new(WorkerFunctions::by_name()),
    );
    let service = processor
        .into_service(lambda)
        .map_err(|error| anyhow::anyhow!("the orchestrator could not be built: {error}"))?;
    let service = Arc::new(service);
    let handler = in_process(
        move |event: lambda_runtime::LambdaEvent<aws_durable_execution_sdk::InvocationPayload>| {
            let service = Arc::clone(&service);
            async move { service(event).await }
        },
    );
    engine.register(Function::new(
        FunctionConfig::durable(
            PROCESSOR,
            DurableConfig {
                execution_timeout: 300,
                retention_days: 7,
            },
        )
        .with_alias(ALIAS),
        handler,
    ));
    let catalog = settings.catalog.clone().unwrap_or_default();
    let workers: [(Worker, Arc<dyn FunctionHandler>); 4] = [
        (
            Worker::Inventory,
            worker(InventoryCheck::new(
                catalog,
                settings.latency(Worker::Inventory),
            )),
        ),
        (
            Worker::Payment,
            worker(PaymentValidation::new(settings.latency(Worker::Payment))),
        ),
        (
            Worker::Shipping,
            worker(ShippingCalculation::new(settings.latency(Worker::Shipping))),
        ),
        (
            Worker::Tax,
            worker(TaxCalculation::new(settings.latency(Worker::Tax))),
        ),
    ];
    for (worker, handler) in workers {
        engine.register(Function::new(
            FunctionConfig::plain(worker.function_name()).with_timeout(Duration::from_secs(10)),
            handler,
        ));
    }
    Ok(())
}
