//! Invocations of other functions: plain ones through the Invoke API and
//! chained invokes, whose outcome goes back to the waiting execution.
//!
//! A chained invoke is in the store's outbox from the commit that starts it
//! until the commit that records its end; after a restart, the outbox is
//! dispatched again ([`Engine::recover`]), each call idempotent where it
//! can be (a durable target's execution has its ARN from the start).

use std::sync::atomic::Ordering;

use super::Engine;
use super::error::{EngineError, Result};
use crate::arn;
use crate::execution::{ChainedInvokeRequest, ChainedOutcome, ChainedTarget, ParentLink};
use crate::functions::{FunctionFault, Invocation, Target, call};
use crate::store::{InvocationRecord, WriteBatch};

fn failed(error: EngineError) -> ChainedOutcome {
    let error = error.into_api();
    ChainedOutcome::Failed(crate::model::ErrorObject::new(
        error.code(),
        error.to_string(),
    ))
}

/// Checks that `tenant` is given exactly when `target` keeps tenants apart.
///
/// # Errors
///
/// `InvalidParameterValue`, naming what is missing or not allowed.
pub(crate) fn check_tenant(target: &Target, tenant: Option<&str>) -> crate::Result<()> {
    let config = target.function.config();
    match (config.per_tenant, tenant) {
        (true, None | Some("")) => Err(crate::Error::invalid(format!(
            "The function {} uses tenant isolation mode PER_TENANT: every invocation must give a tenant id.",
            config.name
        ))),
        (false, Some(_)) => Err(crate::Error::invalid(format!(
            "A tenant id was given, but the function {} does not use a tenant isolation mode.",
            config.name
        ))),
        _ => Ok(()),
    }
}

impl Engine {
    /// A chained invoke's target `name`, as it starts: the version that
    /// runs and, for a durable function, the ARN its execution takes.
    /// `None` when no such function is registered.
    pub(super) fn chained_target(&self, name: &str) -> Option<ChainedTarget> {
        let target = self.resolve(name, None).ok()?;
        let config = target.function.config();
        let execution_arn = config.durable.map(|_| {
            arn::execution_arn(
                &self.function_arn(&config.name, Some(&target.version)),
                &arn::new_execution_id(),
                &arn::new_execution_id(),
            )
        });
        Some(ChainedTarget {
            version: target.version,
            execution_arn,
        })
    }

    /// Invokes a function synchronously with `payload` and returns its answer.
    /// For a plain function this is one call; the invocation is recorded.
    ///
    /// # Errors
    ///
    /// When the engine is shutting down; the function's own failure is the
    /// inner error.
    pub async fn invoke_plain(
        &self,
        target: &Target,
        payload: Vec<u8>,
    ) -> Result<std::result::Result<Vec<u8>, FunctionFault>> {
        let config = target.function.config();
        let request_id = uuid::Uuid::new_v4().to_string();
        self.invocation_began(&request_id, &config.name, None);
        let start = self.now();
        let answer = call(
            &target.function,
            Invocation {
                payload,
                request_id: request_id.clone(),
                function_arn: self.function_arn(&config.name, Some(&target.version)),
                deadline_ms: Invocation::deadline(start, config.timeout),
            },
        )
        .await;
        self.shared
            .counters
            .plain_invocations
            .fetch_add(1, Ordering::Relaxed);
        let record = InvocationRecord {
            request_id,
            function_name: config.name.clone(),
            execution_arn: None,
            start,
            end: self.now(),
            error: answer.as_ref().err().map(ToString::to_string),
        };
        // Queued now, committed in order: before any checkpoint its caller
        // makes with the answer. The answer does not wait for the commit.
        let committed = self.shared.store.write(WriteBatch {
            invocations: vec![record],
            ..WriteBatch::default()
        });
        self.spawn(async move {
            if let Err(error) = committed.await {
                tracing::warn!(%error, "an invocation could not be recorded");
            }
        });
        Ok(answer)
    }

    /// Runs the chained invoke `request` of the execution `arn`: a durable
    /// target as a child execution, a plain one as one invocation.
    pub(super) fn dispatch_chained(&self, arn: &str, request: ChainedInvokeRequest) {
        let engine = self.clone();
        let parent = arn.to_owned();
        self.spawn(async move {
            let outcome = engine.run_chained(&parent, &request).await;
            if let Some(outcome) = outcome {
                engine
                    .chained_done(&parent, request.operation_id, outcome)
                    .await;
            }
        });
    }

    /// The chained invoke's outcome, or `None` for a child execution still
    /// running, which reports its own end.
    async fn run_chained(
        &self,
        parent: &str,
        request: &ChainedInvokeRequest,
    ) -> Option<ChainedOutcome> {
        let target = match self.resolve(&request.function_name, None) {
            Ok(target) => target,
            Err(error) => return Some(failed(error)),
        };
        if let Err(error) = check_tenant(&target, request.tenant_id.as_deref()) {
            return Some(failed(error.into()));
        }
        if target.function.config().durable.is_some() {
            let link = ParentLink {
                arn: parent.to_owned(),
                operation_id: request.operation_id.clone(),
            };
            let target = Target {
                qualified: true,
                ..target
            };
            let payload = request.payload.clone().into_bytes();
            let started = match &request.execution_arn {
                Some(execution_arn) => {
                    self.start_child(&target, payload, link, execution_arn)
                        .await
                }
                // Its ARN was not recorded (a store from before they were).
                None => self
                    .start_target(&target, None, payload, Some(link))
                    .await
                    .map(|_| None),
            };
            return started.unwrap_or_else(|error| Some(failed(error)));
        }
        let answer = self
            .invoke_plain(&target, request.payload.clone().into_bytes())
            .await;
        Some(match answer {
            Ok(Ok(answer)) => {
                ChainedOutcome::Succeeded(Some(String::from_utf8_lossy(&answer).into_owned()))
            }
            Ok(Err(FunctionFault::TimedOut(limit))) => {
                ChainedOutcome::TimedOut(ChainedOutcome::timed_out(limit.as_secs()))
            }
            Ok(Err(fault)) => ChainedOutcome::Failed(fault.error_object()),
            Err(error) => failed(error),
        })
    }
}
