//! `orders serve`: the engine as a local Lambda endpoint.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use durable_engine::Engine;
use durable_engine::api::ServeOptions;

use crate::runtimes::Runtimes;
use crate::system::{self, Hosted, Hosting};
use crate::template::{self, Stack, TemplateFunction};

/// Arguments of `orders serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on. Loopback by default: requests are not
    /// authenticated (signatures are accepted with any credentials).
    #[arg(long, default_value = "127.0.0.1:9001")]
    addr: SocketAddr,
    /// Also answer requests for this host name (repeatable; `*`: any).
    /// Only loopback names and the listening address are answered
    /// otherwise, so that web pages cannot reach the engine.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// The most connections open at once.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// The most execution environments (processes) each function run as a
    /// process has at once: concurrent invocations run concurrently, each
    /// in an environment of its own, as on Lambda; more wait for one.
    #[arg(long, default_value_t = durable_engine::process::DEFAULT_MAX_ENVIRONMENTS, value_parser = clap::value_parser!(u16).range(1..))]
    max_environments: u16,
    /// Seconds an execution environment may wait for an invocation before
    /// it is stopped (the next invocation starts another: a cold start).
    #[arg(long, value_name = "SECONDS", default_value_t = durable_engine::process::DEFAULT_IDLE_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Where the execution explorer (a web page) listens [default: the
    /// API's address, one port up; port 0 when the API's is 0].
    #[arg(long, value_name = "ADDR")]
    explorer_addr: Option<SocketAddr>,
    /// Serves no explorer.
    #[arg(long, conflicts_with = "explorer_addr")]
    no_explorer: bool,
    /// The SAM template describing the functions [default: ./template.yaml if
    /// present, else the order system built in].
    #[arg(long)]
    template: Option<PathBuf>,
    /// The stack name the template's `${AWS::StackName}` resolves to.
    #[arg(long, default_value = "orders")]
    stack_name: String,
    /// Values of the template's parameters, as SAM takes them:
    /// `Key=Value` or `ParameterKey=Key,ParameterValue=Value`, separated by
    /// spaces (a value with spaces quoted); the others take their Default.
    #[arg(long, value_name = "PAIRS", num_args = 1..)]
    parameter_overrides: Vec<String>,
    /// A JSON file of values for the functions' environment variables, as
    /// SAM's `--env-vars`: `{"Parameters": {...}}` for every function,
    /// `{"LogicalId": {...}}` for one. Only variables the template declares
    /// are replaced.
    #[arg(long, value_name = "FILE")]
    env_vars: Option<PathBuf>,
    /// Runs a function as this command, through the Lambda Runtime API
    /// (NAME=COMMAND; repeatable).
    #[arg(long = "function", value_name = "NAME=COMMAND", value_parser = parse_command)]
    functions: Vec<(String, Vec<String>)>,
    /// The engine.
    #[command(flatten)]
    engine: crate::EngineArgs,
    /// Prints the functions' own log lines on stderr (the engine's own
    /// warnings are printed in any case).
    #[arg(long)]
    logs: bool,
    /// npm's `aws-lambda-ric` package directory, to run every Node.js
    /// function under [default: the one in the function's node_modules,
    /// else the Node runtime orders ships].
    #[expect(
        clippy::doc_markdown,
        reason = "clap shows this comment as --help text"
    )]
    #[arg(long, value_name = "DIR")]
    node_ric: Option<PathBuf>,
}

/// How long a shutdown waits for invocations under way.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

fn parse_command(text: &str) -> anyhow::Result<(String, Vec<String>)> {
    let (name, command) = text
        .split_once('=')
        .with_context(|| format!("'{text}' is not NAME=COMMAND"))?;
    let words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
    anyhow::ensure!(
        !name.is_empty() && !words.is_empty(),
        "'{text}' is not NAME=COMMAND"
    );
    Ok((name.to_owned(), words))
}

/// Runs `orders serve` until interrupted.
///
/// # Errors
///
/// When the store, the template, a function or the address cannot be used.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(args.logs);
    let db = args.engine.db();
    let engine = args.engine.engine()?;
    crate::logging::keep_lines(&engine);
    let mut stack = Stack::local(&args.stack_name, &engine);
    stack.parameters =
        template::parse_overrides(&args.parameter_overrides).context("--parameter-overrides")?;
    let template = args
        .template
        .clone()
        .or_else(|| Some(PathBuf::from("template.yaml")).filter(|path| path.is_file()));
    let mut functions = match &template {
        Some(path) => template::load(path, &stack)?,
        None => system::built_in(&stack, &BTreeMap::new(), None)?,
    };
    if let Some(path) = &args.env_vars {
        for unused in template::EnvVars::load(path)?.apply(&mut functions) {
            eprintln!("warning: {}: {unused}; not used", path.display());
        }
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let address = listener.local_addr()?;
    let endpoint = format!("http://{address}");
    let explorer = bind_explorer(&args).await?;
    let runtime_directory = db
        .parent()
        .map_or_else(|| PathBuf::from("runtime"), |parent| parent.join("runtime"));
    let hosting = Hosting {
        commands: args.functions.iter().cloned().collect(),
        endpoint: Some(endpoint.clone()),
        runtimes: Runtimes {
            node_ric: args.node_ric.clone(),
            directory: std::path::absolute(&runtime_directory).unwrap_or(runtime_directory),
        },
        logs: Some(crate::logging::process_sink(&engine, args.logs)),
        max_environments: usize::from(args.max_environments),
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
        events: Some(crate::logging::environment_sink()),
    };
    let hosted = system::register(&engine, &functions, &hosting)?;
    let resumed = engine.recover().await?;
    purge_hourly(&engine);
    if !address.ip().is_loopback() {
        eprintln!(
            "warning: {address} is not loopback; requests are accepted without checking their signatures"
        );
    }
    if !args.allow_hosts.is_empty() {
        eprintln!(
            "answering requests for {} too: whoever reaches those names can run, read and stop executions",
            args.allow_hosts.join(", ")
        );
    }
    if let Some(path) = &template {
        eprintln!(
            "functions from {} (stack {}):",
            path.display(),
            args.stack_name
        );
    }
    print_functions(&functions, &hosted);
    if resumed > 0 {
        eprintln!("dispatched again {resumed} chained invoke(s) under way");
    }
    if let Some(explorer) = &explorer {
        eprintln!("explorer on http://{}/", explorer.local_addr()?);
    }
    // The last line of the start: what scripts wait for.
    eprintln!(
        "serving the Lambda API on {endpoint} (store {})",
        db.display()
    );
    let options = ServeOptions {
        allowed_hosts: args.allow_hosts.clone(),
        max_connections: args.max_connections,
        ..ServeOptions::default()
    };
    serve_until_stopped(&engine, listener, explorer, &options).await?;
    eprintln!("stopping: letting invocations under way finish");
    if !engine.shutdown(SHUTDOWN_GRACE).await {
        eprintln!(
            "some invocations were still running after {} s; their executions carry on when the engine next starts",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The explorer's listener, unless `--no-explorer`: on `--explorer-addr`,
/// else the API's address one port up.
async fn bind_explorer(args: &ServeArgs) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    if args.no_explorer {
        return Ok(None);
    }
    let wanted = args.explorer_addr.unwrap_or_else(|| {
        let port = match args.addr.port() {
            0 => 0,
            port => port.saturating_add(1),
        };
        SocketAddr::new(args.addr.ip(), port)
    });
    let listener = tokio::net::TcpListener::bind(wanted).await.with_context(|| {
        format!("cannot listen on {wanted} for the explorer (--explorer-addr chooses another, --no-explorer serves none)")
    })?;
    Ok(Some(listener))
}

/// Serves the API on `listener` and the explorer on `explorer` until
/// SIGTERM or Ctrl-C, then lets the requests under way finish.
async fn serve_until_stopped(
    engine: &Engine,
    listener: tokio::net::TcpListener,
    explorer: Option<tokio::net::TcpListener>,
    options: &ServeOptions,
) -> anyhow::Result<()> {
    let stop = tokio_util::sync::CancellationToken::new();
    let signal = stop.clone();
    engine.spawn(async move {
        tokio::select! {
            () = shutdown() => signal.cancel(),
            () = signal.cancelled() => {}
        }
    });
    let explorer = explorer.map(|listener| {
        let served = engine.clone();
        let options = options.clone();
        let stopped = stop.clone().cancelled_owned();
        engine.spawn(async move {
            durable_engine::explorer::serve(served, listener, &options, stopped).await
        })
    });
    let served = durable_engine::api::serve(
        engine.clone(),
        listener,
        options,
        stop.clone().cancelled_owned(),
    )
    .await;
    stop.cancel();
    if let Some(explorer) = explorer {
        explorer
            .await
            .context("the explorer stopped")?
            .context("the explorer stopped")?;
    }
    served.context("the server stopped")
}

/// Deletes the executions past their retention period, now and every hour
/// until the engine stops.
fn purge_hourly(engine: &Engine) {
    let purging = engine.clone();
    engine.spawn(async move {
        loop {
            match purging.purge_expired().await {
                Ok(0) => {}
                Ok(count) => {
                    tracing::info!(count, "deleted executions past their retention period");
                }
                Err(error) => {
                    tracing::warn!(%error, "executions past their retention period could not be deleted");
                }
            }
            tokio::select! {
                () = purging.stopping() => return,
                () = tokio::time::sleep(std::time::Duration::from_hours(1)) => {}
            }
        }
    });
}

/// Prints how each function of `functions` is hosted.
fn print_functions(functions: &[TemplateFunction], hosted: &[(String, Hosted)]) {
    for (name, how) in hosted {
        let function = functions.iter().find(|function| &function.name == name);
        let kind = match function
            .and_then(|function| function.durable.as_ref().map(|_| function.alias.clone()))
        {
            Some(Some(alias)) => format!("durable, alias {alias}"),
            Some(None) => "durable".to_owned(),
            None => "plain".to_owned(),
        };
        let how = match how {
            Hosted::InProcess => "in process".to_owned(),
            Hosted::Process(command) => format!("process: {}", command.join(" ")),
        };
        eprintln!("  {name:<32} {kind:<20} {how}");
    }
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = interrupt.await;
            return;
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
