//! `InventoryCheck`, a plain worker function, as a Lambda bootstrap: stock levels and reservations (`CATALOG_FILE` replaces the built-in catalog).
//!
//! `SIMULATED_LATENCY_MS` sets the simulated latency of its external system.

use order_functions::{InventoryCheck, serve_worker, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    serve_worker(InventoryCheck::from_vars(
        &order_functions::settings::ProcessEnv,
    )?)
    .await
}
