//! `ParallelProcessor`, the durable orchestrator, as a Lambda bootstrap.
//!
//! Environment: `INVENTORY_FUNCTION_ARN`, `PAYMENT_FUNCTION_ARN`,
//! `SHIPPING_FUNCTION_ARN`, `TAX_FUNCTION_ARN` (required), and optionally
//! `WORKER_MAX_ATTEMPTS`, `WORKER_RETRY_DELAY_MS`, `WORKER_TIMEOUT_MS`.
//! `AWS_ENDPOINT_URL_LAMBDA` points it at a local engine.

use order_functions::{LambdaWorkerClient, ParallelProcessor, ProcessorOptions, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let options = ProcessorOptions::from_vars(&order_functions::settings::ProcessEnv)?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let processor = ParallelProcessor::new(LambdaWorkerClient::new(lambda.clone()), options);
    lambda_runtime::run(lambda_runtime::service_fn(processor.into_service(lambda)?)).await
}
