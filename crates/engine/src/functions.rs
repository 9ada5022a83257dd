//! The functions the engine can invoke, and how it reaches them.
//!
//! A [`Function`] is a name, its configuration (durable or plain, timeouts,
//! aliases) and a [`FunctionHandler`] that runs one invocation: in the
//! engine's own process ([`in_process`]) or in a separate process through
//! the Lambda Runtime API.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::arn::FunctionRef;
use crate::error::{Error, Result};
use crate::model::{ErrorObject, Timestamp};
use futures_util::future::BoxFuture;

/// How long one invocation may run unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(1);

/// A function's memory unless configured otherwise, in MB (Lambda's default).
pub const DEFAULT_MEMORY_MB: u32 = 128;

/// A durable function's `DurableConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurableConfig {
    /// Seconds a whole execution may take.
    pub execution_timeout: i64,
    /// Days an execution's history is kept after it ends.
    pub retention_days: i64,
}

impl Default for DurableConfig {
    /// Lambda's defaults: executions kept 14 days after they end. The
    /// execution timeout has none on AWS (the template must give it); 300 s
    /// stands in locally.
    fn default() -> Self {
        Self {
            execution_timeout: 300,
            retention_days: 14,
        }
    }
}

/// A function's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionConfig {
    /// Its name.
    pub name: String,
    /// Its durable configuration; `None` for a plain function.
    pub durable: Option<DurableConfig>,
    /// How long one invocation may run.
    pub timeout: Duration,
    /// Aliases, each naming its one published version (`1`).
    pub aliases: Vec<String>,
    /// Environment variables, for functions run as separate processes.
    pub environment: BTreeMap<String, String>,
    /// Its runtime (`provided.al2023`, `python3.13`, `nodejs22.x`), when known.
    pub runtime: Option<String>,
    /// Its handler (`index.handler`), when it has one.
    pub handler: Option<String>,
    /// Its memory, in MB.
    pub memory_mb: u32,
    /// The stack and logical id it was declared with, when it comes from a
    /// template.
    pub origin: Option<Origin>,
    /// Whether its invocations each name a tenant
    /// (`TenancyConfig.TenantIsolationMode: PER_TENANT`).
    pub per_tenant: bool,
}

/// Where a function was declared: its stack and logical id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The stack's name.
    pub stack: String,
    /// The function's logical id in the stack's template.
    pub logical_id: String,
}

impl FunctionConfig {
    /// A plain function named `name`.
    #[must_use]
    pub fn plain(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            durable: None,
            timeout: DEFAULT_TIMEOUT,
            aliases: Vec::new(),
            environment: BTreeMap::new(),
            runtime: None,
            handler: None,
            memory_mb: DEFAULT_MEMORY_MB,
            origin: None,
            per_tenant: false,
        }
    }

    /// A durable function named `name` with `config`.
    #[must_use]
    pub fn durable(name: impl Into<String>, config: DurableConfig) -> Self {
        Self {
            durable: Some(config),
            ..Self::plain(name)
        }
    }

    /// The same function with alias `alias`.
    #[must_use]
    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// The same function with an invocation timeout of `timeout`.
    #[must_use]
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// One invocation, as a handler receives it.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The event (or the durable envelope), as JSON bytes.
    pub payload: Vec<u8>,
    /// The invocation's request id.
    pub request_id: String,
    /// The invoked function's ARN, qualified.
    pub function_arn: String,
    /// When the invocation must be done, in epoch milliseconds.
    pub deadline_ms: u64,
}

impl Invocation {
    /// The deadline, in epoch milliseconds, of an invocation that begins
    /// at `start` and may run for `timeout`.
    #[must_use]
    pub fn deadline(start: Timestamp, timeout: Duration) -> u64 {
        u64::try_from(start.millis())
            .unwrap_or_default()
            .saturating_add(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
    }
}

/// Runs one invocation of `function` within its timeout.
///
/// # Errors
///
/// The function's fault, or [`FunctionFault::TimedOut`] past its timeout.
pub async fn call(function: &Function, invocation: Invocation) -> Result<Vec<u8>, FunctionFault> {
    let limit = function.config().timeout;
    let handler = function.handler();
    if handler.enforces_timeout() {
        // It counts from when the function receives the event.
        return handler.invoke(invocation).await;
    }
    match tokio::time::timeout(limit, handler.invoke(invocation)).await {
        Ok(answer) => answer,
        Err(_) => Err(FunctionFault::TimedOut(limit)),
    }
}

/// An invocation that produced no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FunctionFault {
    /// The function reported an error (`X-Amz-Function-Error: Unhandled`).
    #[error("{error_type}: {message}")]
    Failed {
        /// The error's type.
        error_type: String,
        /// What it said.
        message: String,
    },
    /// The function's process died or could not be reached.
    #[error("the function crashed: {0}")]
    Crashed(String),
    /// The function ran past its timeout.
    #[error("the function timed out after {} s", .0.as_secs_f64())]
    TimedOut(Duration),
}

impl FunctionFault {
    /// The fault as Lambda reports it: its error type and message.
    #[must_use]
    pub fn error_object(&self) -> ErrorObject {
        match self {
            Self::Failed {
                error_type,
                message,
            } => ErrorObject::new(error_type.clone(), message.clone()),
            Self::Crashed(reason) => ErrorObject::new("Runtime.ExitError", reason.clone()),
            Self::TimedOut(limit) => ErrorObject::new(
                "Sandbox.Timedout",
                format!("Task timed out after {:.2} seconds", limit.as_secs_f64()),
            ),
        }
    }

    /// The error body Lambda returns for it: `{"errorType", "errorMessage"}`.
    #[must_use]
    pub fn body(&self) -> serde_json::Value {
        let error = self.error_object();
        serde_json::json!({
            "errorType": error.error_type,
            "errorMessage": error.error_message,
        })
    }
}

/// Runs invocations of one function.
pub trait FunctionHandler: Send + Sync + 'static {
    /// Runs `invocation` and returns the function's answer (JSON bytes).
    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Vec<u8>, FunctionFault>>;

    /// Whether the handler applies the function's timeout itself (and
    /// cleans up after it); otherwise the engine stops waiting at the timeout.
    fn enforces_timeout(&self) -> bool {
        false
    }

    /// Stops what the handler runs (a process, its Runtime API), when the
    /// engine shuts down.
    fn shutdown(&self) -> BoxFuture<'static, ()> {
        Box::pin(std::future::ready(()))
    }
}

impl std::fmt::Debug for dyn FunctionHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FunctionHandler")
    }
}

/// A function written for `lambda_runtime`, run in the engine's process.
///
/// `handler` is what would be given to `lambda_runtime::run(service_fn(…))`:
/// an async function of a `LambdaEvent<A>`. Durable functions pass the
/// service function the SDK's `wrap` returns.
pub fn in_process<A, R, E, F, Fut>(handler: F) -> Arc<dyn FunctionHandler>
where
    A: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    E: std::fmt::Display + Send + 'static,
    F: Fn(lambda_runtime::LambdaEvent<A>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<R, E>> + Send + 'static,
{
    let handler = Arc::new(handler);
    Arc::new(InProcess(Box::new(move |invocation: Invocation| {
        let handler = Arc::clone(&handler);
        Box::pin(async move {
            let event: A = serde_json::from_slice(&invocation.payload).map_err(|error| {
                FunctionFault::Failed {
                    error_type: "Runtime.UnmarshalError".to_owned(),
                    message: format!("the event could not be read: {error}"),
                }
            })?;
            // As the Lambda runtime's span, naming the function too: what the
            // function logs inside it is kept in that function's log.
            let span = tracing::info_span!(
                "Lambda runtime invoke",
                requestId = %invocation.request_id,
                functionName = FunctionRef::parse(&invocation.function_arn)
                    .map_or("", |function| function.name),
            );
            let mut context = lambda_runtime::Context::default();
            context.request_id = invocation.request_id;
            context.invoked_function_arn = invocation.function_arn;
            context.deadline = invocation.deadline_ms;
            // A task of its own: a panic becomes a crash, not the engine's. The
            // task is aborted if this invocation is given up (a timeout), so an
            // abandoned handler never overlaps the next invocation.
            #[expect(
                clippy::disallowed_methods,
                reason = "owned by this invocation: awaited below, aborted if it is dropped"
            )]
            let task = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(
                async move { handler(lambda_runtime::LambdaEvent::new(event, context)).await }
                    .instrument(span),
            ));
            let answer = task.await.map_err(|error| {
                FunctionFault::Crashed(format!("the handler panicked: {error}"))
            })?;
            match answer {
                Ok(response) => {
                    serde_json::to_vec(&response).map_err(|error| FunctionFault::Failed {
                        error_type: "Runtime.MarshalError".to_owned(),
                        message: format!("the response could not be written: {error}"),
                    })
                }
                Err(error) => Err(FunctionFault::Failed {
                    error_type: "Error".to_owned(),
                    message: error.to_string(),
                }),
            }
        })
    })))
}

/// A function run in the engine's process.
struct InProcess(Box<RunInvocation>);

/// Runs one invocation of an in-process function: its answer, or its fault.
type RunInvocation =
    dyn Fn(Invocation) -> BoxFuture<'static, Result<Vec<u8>, FunctionFault>> + Send + Sync;

impl FunctionHandler for InProcess {
    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Vec<u8>, FunctionFault>> {
        (self.0)(invocation)
    }
}

/// A registered function.
#[derive(Clone)]
pub struct Function {
    config: FunctionConfig,
    handler: Arc<dyn FunctionHandler>,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Function {
    /// A function with `config`, run by `handler`.
    #[must_use]
    pub fn new(config: FunctionConfig, handler: Arc<dyn FunctionHandler>) -> Self {
        Self { config, handler }
    }

    /// Its configuration.
    #[must_use]
    pub const fn config(&self) -> &FunctionConfig {
        &self.config
    }

    /// Its handler.
    #[must_use]
    pub fn handler(&self) -> Arc<dyn FunctionHandler> {
        Arc::clone(&self.handler)
    }
}

/// A function named in a request, resolved.
#[derive(Debug, Clone)]
pub struct Target {
    /// The function.
    pub function: Function,
    /// The version invoked: `$LATEST` or `1`.
    pub version: String,
    /// Whether the request named a version or alias.
    pub qualified: bool,
}

/// The functions, by name.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    functions: BTreeMap<String, Function>,
}

impl Registry {
    /// Adds (or replaces) `function`.
    pub fn register(&mut self, function: Function) {
        self.functions
            .insert(function.config.name.clone(), function);
    }

    /// The functions, by name.
    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.functions.values()
    }

    /// The function named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Function> {
        self.functions.get(name)
    }

    /// Whether `name` (a name or ARN, optionally qualified) names a function.
    #[must_use]
    pub fn knows(&self, name: &str) -> bool {
        FunctionRef::parse(name).is_some_and(|named| self.functions.contains_key(named.name))
    }

    /// Resolves a function name, partial ARN or ARN, optionally qualified
    /// (`NAME:prod`), with an optional separate `qualifier`. An ARN must
    /// name this `region` and `account`.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown function or qualifier, or an ARN
    /// of another region or account; `InvalidParameterValue` for a
    /// malformed name or conflicting qualifiers.
    pub fn resolve(
        &self,
        name: &str,
        qualifier: Option<&str>,
        region: &str,
        account: &str,
    ) -> Result<Target> {
        let named = FunctionRef::parse(name)
            .ok_or_else(|| Error::invalid(format!("Invalid function name '{name}'")))?;
        let elsewhere = named.region.is_some_and(|named| named != region)
            || named.account.is_some_and(|named| named != account);
        if elsewhere {
            return Err(Error::function_not_found(name));
        }
        let (bare, suffix) = (named.name, named.qualifier);
        let qualifier = match (suffix, qualifier.filter(|q| !q.is_empty())) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::invalid(format!(
                    "The derived qualifier from the function name '{a}' does not match the specified qualifier '{b}'."
                )));
            }
            (Some(q), _) | (None, Some(q)) => Some(q),
            (None, None) => None,
        };
        let function = self
            .functions
            .get(bare)
            .ok_or_else(|| Error::function_not_found(name))?;
        let version = match qualifier {
            None | Some("$LATEST") => "$LATEST",
            Some("1") => "1",
            Some(alias) if function.config.aliases.iter().any(|known| known == alias) => "1",
            Some(other) => {
                return Err(Error::not_found(format!(
                    "Function not found: {bare}:{other} (versions: $LATEST, 1; aliases: {})",
                    function.config.aliases.join(", ")
                )));
            }
        };
        Ok(Target {
            function: function.clone(),
            version: version.to_owned(),
            qualified: qualifier.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(registry: &Registry, name: &str, qualifier: Option<&str>) -> Result<Target> {
        registry.resolve(name, qualifier, "us-east-1", "000000000000")
    }

    #[test]
    fn aliases_and_the_published_version_resolve_to_version_1() {
        let handler = in_process(|_: lambda_runtime::LambdaEvent<serde_json::Value>| async {
            Ok::<_, String>(1)
        });
        let mut registry = Registry::default();
        registry.register(Function::new(
            FunctionConfig::durable("Orders", DurableConfig::default()).with_alias("prod"),
            handler,
        ));
        assert_eq!(
            resolve(&registry, "Orders:prod", None).unwrap().version,
            "1"
        );
        assert_eq!(
            resolve(&registry, "Orders", Some("1")).unwrap().version,
            "1"
        );
        let latest = resolve(&registry, "Orders", None).unwrap();
        assert_eq!(
            (latest.version.as_str(), latest.qualified),
            ("$LATEST", false)
        );
        assert!(matches!(
            resolve(&registry, "Orders:beta", None),
            Err(Error::ResourceNotFound(_))
        ));
        assert!(matches!(
            resolve(&registry, "Nope", None),
            Err(Error::ResourceNotFound(_))
        ));
        assert!(matches!(
            resolve(&registry, "Orders:prod", Some("1")),
            Err(Error::InvalidParameterValue(_))
        ));
    }

    #[test]
    fn an_arn_of_another_account_or_region_names_no_function() {
        let handler = in_process(|_: lambda_runtime::LambdaEvent<serde_json::Value>| async {
            Ok::<_, String>(1)
        });
        let mut registry = Registry::default();
        registry.register(Function::new(FunctionConfig::plain("Orders"), handler));
        let here = "arn:aws:lambda:us-east-1:000000000000:function:Orders";
        assert!(resolve(&registry, here, None).is_ok());
        for elsewhere in [
            "arn:aws:lambda:eu-west-1:000000000000:function:Orders",
            "arn:aws:lambda:us-east-1:123456789012:function:Orders:prod",
            "123456789012:function:Orders",
        ] {
            assert!(
                matches!(
                    resolve(&registry, elsewhere, None),
                    Err(Error::ResourceNotFound(_))
                ),
                "{elsewhere}"
            );
        }
    }
}
