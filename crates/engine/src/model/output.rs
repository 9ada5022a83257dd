//! What the API answers with.

use serde::Serialize;

use super::{EpochMillis, ErrorObject, ExecutionStatus, Operation, Timestamp};

/// What a checkpoint answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckpointOutput {
    /// The token the next checkpoint must carry.
    pub checkpoint_token: String,
    /// Operations changed since the caller last saw them.
    pub new_execution_state: StatePage,
}

/// What an invocation of a durable function receives (the durable
/// invocation input), its moments in epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationInput {
    /// The execution.
    pub durable_execution_arn: String,
    /// The token of the invocation's first checkpoint.
    pub checkpoint_token: String,
    /// The operations so far, the first page of them.
    pub initial_execution_state: InitialExecutionState,
}

/// The first page of an execution's operations, in an invocation's input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InitialExecutionState {
    /// The operations.
    pub operations: Vec<Operation<EpochMillis>>,
    /// Where the next page starts (`GetDurableExecutionState`); absent on
    /// the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// A page of operations.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatePage {
    /// The operations.
    pub operations: Vec<Operation>,
    /// Where the next page starts; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// An execution as `ListDurableExecutionsByFunction` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionSummary {
    /// Its ARN.
    pub durable_execution_arn: String,
    /// Its name.
    pub durable_execution_name: String,
    /// Its function's ARN, qualified with the version it runs.
    pub function_arn: String,
    /// Where it stands.
    pub status: ExecutionStatus,
    /// When it started.
    pub start_timestamp: Timestamp,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<Timestamp>,
}

/// A function's `DurableConfig`, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DurableConfigShape {
    /// Seconds a whole execution may take.
    pub execution_timeout: i64,
    /// Days an execution's history is kept after it ends.
    pub retention_period_in_days: i64,
}

/// A pause under way, as `GetDurableExecution` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PauseDetails {
    /// When it was asked for.
    pub pause_request_timestamp: Timestamp,
    /// Whether the execution timeout stops while paused.
    pub execution_timeout_paused: bool,
    /// Why, when execution data is included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One execution, as `GetDurableExecution` describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionDescription {
    /// What the listing shows.
    #[serde(flatten)]
    pub summary: ExecutionSummary,
    /// The version it runs.
    pub version: String,
    /// Whether input, result and error are included.
    pub execution_data_included: bool,
    /// Its function's durable configuration, as it started with.
    pub durable_config: DurableConfigShape,
    /// Its input, when included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_payload: Option<String>,
    /// Its result, when included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Its error, when included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// When it times out, while not over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_execution_timeout_timestamp: Option<Timestamp>,
    /// The pause under way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause_details: Option<PauseDetails>,
}
