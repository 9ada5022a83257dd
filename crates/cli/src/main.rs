//! `orders`: parallel order processing on a local durable engine.

use std::process::ExitCode;

use clap::Parser as _;
use orders_cli::Cli;

/// The engine allocates and frees many short-lived buffers across threads
/// (request and response bodies, rows, envelopes), where mimalloc is much
/// cheaper than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("orders: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(orders_cli::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("orders: {error:#}");
            ExitCode::FAILURE
        }
    }
}
