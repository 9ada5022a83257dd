//! `TaxCalculation`, a plain worker function, as a Lambda bootstrap: tax by state.
//!
//! `SIMULATED_LATENCY_MS` sets the simulated latency of its external system.

use order_functions::{TaxCalculation, serve_worker, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    serve_worker(TaxCalculation::from_vars(
        &order_functions::settings::ProcessEnv,
    )?)
    .await
}
