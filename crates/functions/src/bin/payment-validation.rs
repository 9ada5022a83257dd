//! `PaymentValidation`, a plain worker function, as a Lambda bootstrap: payment methods and authorizations.
//!
//! `SIMULATED_LATENCY_MS` sets the simulated latency of its external system.

use order_functions::{PaymentValidation, serve_worker, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    serve_worker(PaymentValidation::from_vars(
        &order_functions::settings::ProcessEnv,
    )?)
    .await
}
