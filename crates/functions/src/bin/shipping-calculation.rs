//! `ShippingCalculation`, a plain worker function, as a Lambda bootstrap: shipping cost, carrier and delivery estimate.
//!
//! `SIMULATED_LATENCY_MS` sets the simulated latency of its external system.

use order_functions::{ShippingCalculation, serve_worker, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    serve_worker(ShippingCalculation::from_vars(
        &order_functions::settings::ProcessEnv,
    )?)
    .await
}
