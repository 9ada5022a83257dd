//! `ParallelProcessor`: the durable orchestrator.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk::builders::map_parallel::BatchItemStatus;
use aws_durable_execution_sdk::{BoxError, Branch, DurableContext, RetryDecision, TypedError};
use order_domain::inventory::InventoryAnswer;
use order_domain::outcome::{Confirmation, Failure, Totals, WorkerAnswers, WorkerInvocationError};
use order_domain::payment::PaymentAnswer;
use order_domain::request::{
    InventoryRequest, PaymentCustomer, PaymentRequest, ShippingAddress, ShippingRequest,
    StockRequest, TaxRequest,
};
use order_domain::shipping::ShippingAnswer;
use order_domain::tax::TaxAnswer;
use order_domain::{Moment, Money, Order, OrderResponse, Outcome, Worker};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tracing::{debug, info, warn};

use crate::invoke::{InvokeFailure, WorkerClient, WorkerFunctions};
use crate::settings::{self, SettingsError, Vars};

/// A durable function as the Lambda runtime calls it: the invocation
/// envelope in, the durable response envelope out.
pub type DurableService = Box<
    dyn Fn(
            lambda_runtime::LambdaEvent<aws_durable_execution_sdk::InvocationPayload>,
        ) -> std::pin::Pin<
            Box<
                dyn Future<
                        Output = Result<
                            aws_durable_execution_sdk::InvocationResponse,
                            lambda_runtime::Error,
                        >,
                    > + Send,
            >,
        > + Send
        + Sync,
>;

/// How long the order waits, durably, before it is confirmed.
pub const FINALIZE_DELAY: Duration = Duration::from_secs(1);

/// How worker calls that fail are retried: exponential backoff, bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls made in all before giving up (the first included).
    pub max_attempts: u32,
    /// The delay after the first failure; each later one doubles it.
    pub initial_delay: Duration,
    /// No delay is longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Five calls, 2 s then 4, 8 and 16 s apart: about 30 s before giving up.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(16),
        }
    }
}

impl RetryPolicy {
    /// What to do after attempt `attempt` (1-based) failed.
    #[must_use]
    pub fn decide(&self, attempt: u32) -> RetryDecision {
        if attempt >= self.max_attempts {
            return RetryDecision::Stop;
        }
        let factor = 2_u32.saturating_pow(attempt.saturating_sub(1));
        let delay = self
            .initial_delay
            .saturating_mul(factor)
            .min(self.max_delay);
        RetryDecision::Retry { delay }
    }
}

/// How the orchestrator calls its workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorOptions {
    /// The function behind each worker.
    pub functions: WorkerFunctions,
    /// Retries of a worker call that fails.
    pub retry: RetryPolicy,
    /// How long one worker call may take before it counts as failed.
    pub call_timeout: Duration,
}

impl ProcessorOptions {
    /// Options for calling `functions`, with the default retry policy and a
    /// 15 s call timeout (above the workers' own 10 s Lambda timeout).
    #[must_use]
    pub fn new(functions: WorkerFunctions) -> Self {
        Self {
            functions,
            retry: RetryPolicy::default(),
            call_timeout: Duration::from_secs(15),
        }
    }

    /// Options from the environment: the four `*_FUNCTION_ARN` variables,
    /// and optionally `WORKER_MAX_ATTEMPTS` (5), `WORKER_RETRY_DELAY_MS`
    /// (2000, doubling, at most 8× that) and `WORKER_TIMEOUT_MS` (15000).
    ///
    /// # Errors
    ///
    /// [`SettingsError`] naming the variable that is missing or unreadable.
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, SettingsError> {
        let defaults = Self::new(WorkerFunctions::from_vars(vars)?);
        let max_attempts = settings::parsed_or(
            vars,
            "WORKER_MAX_ATTEMPTS",
            defaults.retry.max_attempts,
            "a whole number of attempts",
        )?;
        let delay_ms = settings::parsed_or(
            vars,
            "WORKER_RETRY_DELAY_MS",
            millis(defaults.retry.initial_delay),
            "a whole number of milliseconds",
        )?;
        let timeout_ms = settings::parsed_or(
            vars,
            "WORKER_TIMEOUT_MS",
            millis(defaults.call_timeout),
            "a whole number of milliseconds",
        )?;
        Ok(Self {
            retry: RetryPolicy {
                max_attempts: max_attempts.max(1),
                initial_delay: Duration::from_millis(delay_ms),
                max_delay: Duration::from_millis(delay_ms.saturating_mul(8)),
            },
            call_timeout: Duration::from_millis(timeout_ms),
            ..defaults
        })
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The orchestrator: one durable execution per order.
///
/// Cheap to clone; every clone shares the worker client.
#[derive(Debug)]
pub struct ParallelProcessor<C> {
    shared: Arc<Shared<C>>,
}

impl<C> Clone for ParallelProcessor<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

#[derive(Debug)]
struct Shared<C> {
    client: C,
    options: ProcessorOptions,
}

/// What `validate-input` records: the order, and when processing began.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    order: Order,
    started_at: Moment,
}

/// What `validate-results` records.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Judgement {
    failures: Vec<Failure>,
    checked_at: Moment,
}

/// One branch's answer, tagged by worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum WorkerAnswer {
    Inventory(InventoryAnswer),
    Payment(PaymentAnswer),
    Shipping(ShippingAnswer),
    Tax(TaxAnswer),
}

/// What `finalize-order` records.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Finalized {
    confirmation: Confirmation,
    finished_at: Moment,
}

/// A worker call that failed: the error recorded for one attempt.
#[derive(Debug, thiserror::Error)]
#[error("{function} {problem}")]
struct CallFailed {
    function: String,
    problem: String,
}

impl<C: WorkerClient> ParallelProcessor<C> {
    /// An orchestrator calling workers through `client`.
    #[must_use]
    pub fn new(client: C, options: ProcessorOptions) -> Self {
        Self {
            shared: Arc::new(Shared { client, options }),
        }
    }

    /// Processes one order: the durable handler.
    ///
    /// `event` is the order as received (`None` when the event is `null`).
    /// Every order ends in an [`OrderResponse`]; an `Err` here is an
    /// infrastructure failure (for example a checkpoint that could not be
    /// written), never a business outcome.
    ///
    /// # Errors
    ///
    /// Only when a durable operation itself fails.
    #[expect(
        clippy::too_many_lines,
        reason = "the pattern's steps, top to bottom, in the order they run"
    )]
    pub async fn process(
        &self,
        event: Option<Box<RawValue>>,
        ctx: DurableContext,
    ) -> Result<OrderResponse, BoxError> {
        let entered = Moment::now();
        let input = event.clone();
        let accepted = ctx
            .step(move |_| async move {
                debug!(operation = "validate-input", "running step");
                let started_at = Moment::now();
                match Order::from_event(input.as_deref()) {
                    Ok(order) => Ok(Accepted { order, started_at }),
                    Err(invalid) => {
                        Err(Box::new(TypedError::with_type("ValidationError", invalid)) as BoxError)
                    }
                }
            })
            .name("validate-input")
            .retry_strategy(|_, _| RetryDecision::Stop)
            .await;
        let Accepted { order, started_at } = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Validation is a pure function of the event: run it again for the typed error.
                let invalid = Order::from_event(event.as_deref()).err().ok_or(error)?;
                info!(field = %invalid.field(), "Order rejected: {invalid}");
                return Ok(OrderResponse::new(
                    Outcome::Invalid(invalid),
                    entered,
                    Moment::now(),
                ));
            }
        };
        let order = Arc::new(order);
        let order_id = order.order_id().to_owned();

        let subtotal = {
            let order = Arc::clone(&order);
            ctx.step(move |_| async move {
                debug!(operation = "calculate-subtotal", "running step");
                Ok(order.subtotal()?)
            })
            .name("calculate-subtotal")
            .await?
        };

        info!(orderId = %order_id, operation = "parallel-workers", "Starting parallel worker execution");
        let answers = match self.call_workers(&ctx, &order, subtotal).await? {
            Ok(answers) => answers,
            Err(unreachable) => {
                warn!(orderId = %order_id, worker = unreachable.worker().function_name(), "{unreachable}");
                return Ok(OrderResponse::new(
                    Outcome::WorkerUnreachable(unreachable),
                    started_at,
                    Moment::now(),
                ));
            }
        };
        info!(orderId = %order_id, operation = "parallel-workers", "Parallel execution completed");

        let judgement = {
            let answers = answers.clone();
            ctx.step(move |_| async move {
                debug!(operation = "validate-results", "running step");
                Ok(Judgement {
                    failures: answers.judge().err().unwrap_or_default(),
                    checked_at: Moment::now(),
                })
            })
            .name("validate-results")
            .await?
        };
        let approval = match answers.judge() {
            Ok(approval) if judgement.failures.is_empty() => approval,
            _ => {
                info!(orderId = %order_id, failures = judgement.failures.len(), "Order validation failed");
                let outcome = Outcome::Rejected {
                    order_id,
                    failures: judgement.failures,
                };
                return Ok(OrderResponse::new(
                    outcome,
                    started_at,
                    judgement.checked_at,
                ));
            }
        };

        let totals = {
            let (shipping, tax) = (approval.shipping.cost, approval.tax.amount);
            ctx.step(move |_| async move {
                debug!(operation = "calculate-final-totals", "running step");
                Ok(Totals::new(subtotal, shipping, tax)?)
            })
            .name("calculate-final-totals")
            .await?
        };

        ctx.wait(FINALIZE_DELAY)
            .name("wait-before-finalize")
            .await?;

        let finalized = {
            let order_id = order_id.clone();
            ctx.step(move |_| async move {
                debug!(operation = "finalize-order", "running step");
                let finished_at = Moment::now();
                Ok(Finalized {
                    confirmation: Confirmation::new(&order_id, approval, totals, finished_at),
                    finished_at,
                })
            })
            .name("finalize-order")
            .await?
        };
        info!(orderId = %order_id, operation = "finalize-order", "Order confirmed");
        Ok(OrderResponse::new(
            Outcome::Confirmed(Box::new(finalized.confirmation)),
            started_at,
            finalized.finished_at,
        ))
    }

    /// The Lambda service function of this orchestrator: the SDK's
    /// [`wrap`](aws_durable_execution_sdk::wrap) of [`process`](Self::process),
    /// checkpointing through `lambda`.
    ///
    /// This is what the `parallel-processor` binary registers with the
    /// Lambda runtime, and what the local engine calls in process.
    ///
    /// # Errors
    ///
    /// When the SDK rejects its options.
    pub fn into_service(self, lambda: aws_sdk_lambda::Client) -> Result<DurableService, BoxError> {
        let options = aws_durable_execution_sdk::Options::builder()
            .lambda_client(lambda)
            .checkpoint_batching(true)
            .build()?;
        let handler = move |event: Option<Box<RawValue>>, ctx: DurableContext| {
            let processor = self.clone();
            async move { processor.process(event, ctx).await }
        };
        Ok(Box::new(aws_durable_execution_sdk::wrap(handler, options)))
    }

    /// The `parallel-workers` operation: four named branches, each a child
    /// context holding the one step that calls its worker.
    ///
    /// The outer `Result` is the durable operation's; the inner one says
    /// whether every worker answered.
    async fn call_workers(
        &self,
        ctx: &DurableContext,
        order: &Arc<Order>,
        subtotal: Money,
    ) -> Result<Result<WorkerAnswers, WorkerInvocationError>, BoxError> {
        let branches = Worker::ALL.map(|worker| {
            let processor = self.clone();
            let order = Arc::clone(order);
            Branch::new(
                worker.step_name(),
                move |child: DurableContext| async move {
                    let retry = processor.shared.options.retry;
                    let answer = child
                        .step(
                            move |_| async move { processor.call(worker, &order, subtotal).await },
                        )
                        .name(worker.step_name())
                        .retry_strategy(move |_, attempt| retry.decide(attempt))
                        .await?;
                    Ok(answer)
                },
            )
        });
        let batch = ctx
            .parallel(branches)
            .name("parallel-workers")
            .await_batch()
            .await?;

        let mut answers = (None, None, None, None);
        for item in batch.items {
            let worker = Worker::ALL
                .into_iter()
                .find(|worker| worker.step_name() == item.name)
                .ok_or_else(|| format!("parallel-workers has an unknown branch '{}'", item.name))?;
            match (item.status, item.result) {
                (BatchItemStatus::Succeeded, Some(answer)) => match answer {
                    WorkerAnswer::Inventory(answer) => answers.0 = Some(answer),
                    WorkerAnswer::Payment(answer) => answers.1 = Some(answer),
                    WorkerAnswer::Shipping(answer) => answers.2 = Some(answer),
                    WorkerAnswer::Tax(answer) => answers.3 = Some(answer),
                },
                (BatchItemStatus::Failed, _) => {
                    let detail = item.error_message.unwrap_or_else(|| "no answer".to_owned());
                    return Ok(Err(WorkerInvocationError::new(worker, detail)));
                }
                _ => {}
            }
        }
        match answers {
            (Some(inventory), Some(payment), Some(shipping), Some(tax)) => Ok(Ok(WorkerAnswers {
                inventory,
                payment,
                shipping,
                tax,
            })),
            _ => Err("parallel-workers completed without an answer from every worker".into()),
        }
    }

    /// One call of `worker`: the body of its branch's step.
    async fn call(
        &self,
        worker: Worker,
        order: &Order,
        subtotal: Money,
    ) -> Result<WorkerAnswer, BoxError> {
        let function = self.shared.options.functions.function(worker);
        info!(
            orderId = %order.order_id(),
            operation = worker.step_name(),
            "Invoking {} worker",
            worker.function_name()
        );
        let failed = |problem: String| -> BoxError {
            Box::new(TypedError::with_type(
                "WorkerInvocationError",
                CallFailed {
                    function: worker.function_name().to_owned(),
                    problem,
                },
            ))
        };
        let payload = request_for(worker, order, subtotal)
            .map_err(|error| failed(format!("request could not be written: {error}")))?;
        let timeout = self.shared.options.call_timeout;
        let answer =
            match tokio::time::timeout(timeout, self.shared.client.invoke(function, payload)).await
            {
                Ok(Ok(answer)) => answer,
                Ok(Err(InvokeFailure::Transport(problem))) => return Err(failed(problem)),
                Ok(Err(failure @ InvokeFailure::Function { .. })) => {
                    return Err(failed(failure.to_string()));
                }
                Err(_) => {
                    return Err(failed(format!(
                        "did not answer within {} ms",
                        timeout.as_millis()
                    )));
                }
            };
        let parsed = match worker {
            Worker::Inventory => serde_json::from_slice(&answer).map(WorkerAnswer::Inventory),
            Worker::Payment => serde_json::from_slice(&answer).map(WorkerAnswer::Payment),
            Worker::Shipping => serde_json::from_slice(&answer).map(WorkerAnswer::Shipping),
            Worker::Tax => serde_json::from_slice(&answer).map(WorkerAnswer::Tax),
        };
        parsed.map_err(|error| {
            failed(format!(
                "answered with something that is not its answer: {error}"
            ))
        })
    }
}

/// The request `worker` gets for `order`.
fn request_for(worker: Worker, order: &Order, subtotal: Money) -> serde_json::Result<Vec<u8>> {
    let order_id = order.order_id().to_owned();
    let stock = || -> Vec<StockRequest> {
        order
            .items()
            .iter()
            .map(|item| StockRequest {
                product_id: item.product_id.clone(),
                quantity: item.quantity,
            })
            .collect()
    };
    let customer = order.customer();
    match worker {
        Worker::Inventory => serde_json::to_vec(&InventoryRequest {
            order_id,
            items: stock(),
        }),
        Worker::Payment => serde_json::to_vec(&PaymentRequest {
            order_id,
            customer: PaymentCustomer {
                id: Some(customer.id.clone()),
                payment_method: customer.payment_method.clone(),
            },
            amount: subtotal,
        }),
        Worker::Shipping => serde_json::to_vec(&ShippingRequest {
            order_id,
            items: stock(),
            address: ShippingAddress {
                state: customer.address.state.clone(),
            },
        }),
        Worker::Tax => serde_json::to_vec(&TaxRequest {
            order_id,
            subtotal,
            state: customer.address.state.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_backoff_doubles_from_2_s_for_5_attempts() {
        let policy = RetryPolicy::default();
        let delays: Vec<RetryDecision> = (1..=5).map(|attempt| policy.decide(attempt)).collect();
        assert_eq!(
            delays,
            vec![
                RetryDecision::Retry {
                    delay: Duration::from_secs(2)
                },
                RetryDecision::Retry {
                    delay: Duration::from_secs(4)
                },
                RetryDecision::Retry {
                    delay: Duration::from_secs(8)
                },
                RetryDecision::Retry {
                    delay: Duration::from_secs(16)
                },
                RetryDecision::Stop,
            ]
        );
    }

    #[test]
    fn the_backoff_is_bounded() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
        };
        assert_eq!(
            policy.decide(9),
            RetryDecision::Retry {
                delay: Duration::from_secs(5)
            }
        );
    }
}
