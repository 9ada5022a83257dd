//! How the orchestrator reaches its workers.

use std::future::Future;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use order_domain::Worker;

use crate::settings::{self, SettingsError, Vars};

/// Calls a function by name with a JSON payload and returns its JSON answer.
///
/// On Lambda and on the local engine this is [`LambdaWorkerClient`], the
/// Lambda Invoke API with `RequestResponse`; tests answer in process.
pub trait WorkerClient: Send + Sync + 'static {
    /// Invokes `function` with `payload` and waits for its answer.
    fn invoke(
        &self,
        function: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, InvokeFailure>> + Send;
}

/// A call that produced no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeFailure {
    /// The call did not get through (unreachable, throttled, refused).
    #[error("invoke failed: {0}")]
    Transport(String),
    /// The function ran and failed (`X-Amz-Function-Error`).
    #[error("function error ({kind}): {message}")]
    Function {
        /// `Unhandled`, or the error's type.
        kind: String,
        /// What the function reported.
        message: String,
    },
}

/// [`WorkerClient`] over the Lambda Invoke API.
///
/// Points wherever its client points: AWS, or the local engine through
/// `AWS_ENDPOINT_URL_LAMBDA`.
#[derive(Debug, Clone)]
pub struct LambdaWorkerClient {
    lambda: aws_sdk_lambda::Client,
}

impl LambdaWorkerClient {
    /// A worker client over `lambda`.
    #[must_use]
    pub const fn new(lambda: aws_sdk_lambda::Client) -> Self {
        Self { lambda }
    }
}

impl WorkerClient for LambdaWorkerClient {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeFailure> {
        let output = self
            .lambda
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|error| {
                InvokeFailure::Transport(
                    aws_sdk_lambda::error::DisplayErrorContext(error).to_string(),
                )
            })?;
        let answer = output.payload.map(Blob::into_inner).unwrap_or_default();
        if let Some(kind) = output.function_error {
            return Err(InvokeFailure::Function {
                kind,
                message: String::from_utf8_lossy(&answer).into_owned(),
            });
        }
        Ok(answer)
    }
}

/// The function (name or ARN) behind each worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFunctions {
    inventory: String,
    payment: String,
    shipping: String,
    tax: String,
}

impl WorkerFunctions {
    /// The environment variable that names `worker`'s function.
    #[must_use]
    pub const fn variable(worker: Worker) -> &'static str {
        match worker {
            Worker::Inventory => "INVENTORY_FUNCTION_ARN",
            Worker::Payment => "PAYMENT_FUNCTION_ARN",
            Worker::Shipping => "SHIPPING_FUNCTION_ARN",
            Worker::Tax => "TAX_FUNCTION_ARN",
        }
    }

    /// Each worker's function from `INVENTORY_FUNCTION_ARN`,
    /// `PAYMENT_FUNCTION_ARN`, `SHIPPING_FUNCTION_ARN` and `TAX_FUNCTION_ARN`.
    ///
    /// # Errors
    ///
    /// [`SettingsError`] naming the first variable that is unset or empty.
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, SettingsError> {
        let read = |worker| settings::required(vars, Self::variable(worker));
        Ok(Self {
            inventory: read(Worker::Inventory)?,
            payment: read(Worker::Payment)?,
            shipping: read(Worker::Shipping)?,
            tax: read(Worker::Tax)?,
        })
    }

    /// Each worker's function by its own name (`InventoryCheck`, …).
    #[must_use]
    pub fn by_name() -> Self {
        Self {
            inventory: Worker::Inventory.function_name().to_owned(),
            payment: Worker::Payment.function_name().to_owned(),
            shipping: Worker::Shipping.function_name().to_owned(),
            tax: Worker::Tax.function_name().to_owned(),
        }
    }

    /// The function behind `worker`.
    #[must_use]
    pub fn function(&self, worker: Worker) -> &str {
        match worker {
            Worker::Inventory => &self.inventory,
            Worker::Payment => &self.payment,
            Worker::Shipping => &self.shipping,
            Worker::Tax => &self.tax,
        }
    }
}
