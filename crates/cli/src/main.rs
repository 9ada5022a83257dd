//! `orders`: parallel order processing on a local durable engine.

use std::process::ExitCode;

use clap::Parser as _;
use orders_cli::Cli;

/// The engine allocates and frees many short-lived buffers across threads
/// (request and response bodies, rows, envelopes), where jemalloc is much
/// cheaper than the system allocator; its background threads hand memory
/// a burst freed back to the system once the burst is over, where other
/// allocators keep it until the thread that freed it allocates again (see
/// BENCHMARKS.md, B5). SQLite allocates from it too.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
