//! What the store keeps of an execution, and the requests and outcomes
//! that change it.

use serde::{Deserialize, Serialize};

use crate::limits::{DAY_MILLIS, MAX_PAUSED_LIFETIME_DAYS};
use crate::model::{
    DurableConfigShape, ErrorObject, ExecutionDescription, ExecutionStatus, ExecutionSummary,
    PauseDetails, Timestamp,
};

/// An execution, as its record in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    /// `arn:aws:lambda:…:function:NAME:VERSION/durable-execution/EXECUTION/ID`.
    pub arn: String,
    /// The function's name.
    pub function_name: String,
    /// The function's ARN, qualified with the version the execution runs.
    pub function_arn: String,
    /// The version the execution runs (`$LATEST` or a number).
    pub version: String,
    /// The execution's name, unique per function.
    pub name: String,
    /// Where it stands.
    pub status: ExecutionStatus,
    /// The input, as JSON text.
    pub input: String,
    /// The result, when it succeeded.
    pub result: Option<String>,
    /// The error, when it failed, timed out or was stopped.
    pub error: Option<ErrorObject>,
    /// When it started.
    pub start: Timestamp,
    /// When it ended.
    pub end: Option<Timestamp>,
    /// Seconds the whole execution may take.
    pub timeout_seconds: i64,
    /// Days its history is kept after it ends.
    pub retention_days: i64,
    /// The execution and operation that started it with a chained invoke.
    pub parent: Option<ParentLink>,
    /// Invocations so far.
    pub invocations: u64,
    /// The pause under way, while `PAUSING` or `PAUSED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<PauseRecord>,
    /// Milliseconds the execution timeout was extended by, for time spent
    /// paused with the timeout paused.
    #[serde(default)]
    pub paused_millis: i64,
    /// Client tokens of recent pause and resume requests, kept with the
    /// execution so a repeat is recognised after a restart too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_tokens: Vec<ControlToken>,
    /// Since when an invocation is owed: something it waits for arrived, a
    /// retry came due, or an invocation was cut off by the engine's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owed_since: Option<Timestamp>,
    /// When the invocation under way began; after a restart, that
    /// invocation is owed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoking_since: Option<Timestamp>,
    /// Invocations that failed in a row.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_invocations: u32,
    /// When the next invocation after a failed one is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Timestamp>,
    /// When something is next due for the execution: an invocation, a
    /// timer, or (once it ended) its deletion. The engine's timer index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Timestamp>,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
const fn is_zero(count: &u32) -> bool {
    *count == 0
}

impl ExecutionRecord {
    /// When the execution's history is deleted, once it ended: its
    /// retention period after its end.
    #[must_use]
    pub fn expires_at(&self) -> Option<Timestamp> {
        self.end
            .map(|end| end.plus_millis(self.retention_days.saturating_mul(DAY_MILLIS)))
    }

    /// When the execution times out: its timeout after its start, extended
    /// by the time it spent paused with the timeout paused, and while it is
    /// paused so, [`MAX_PAUSED_LIFETIME_DAYS`] after its start.
    #[must_use]
    pub fn timeout_at(&self) -> Timestamp {
        let limit = self
            .start
            .plus_millis(MAX_PAUSED_LIFETIME_DAYS.saturating_mul(DAY_MILLIS));
        let timeout_paused = self
            .pause
            .as_ref()
            .is_some_and(|pause| pause.since.is_some() && pause.execution_timeout_paused);
        if timeout_paused {
            return limit;
        }
        let extended = self
            .start
            .plus_millis(self.timeout_seconds.saturating_mul(1000))
            .plus_millis(self.paused_millis);
        if self.paused_millis > 0 {
            extended.min(limit)
        } else {
            extended
        }
    }
}

/// A pause or resume request's client token, and what it asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlToken {
    /// The client token.
    pub token: String,
    /// What the request asked, in words.
    pub asked: String,
    /// When it was asked.
    pub at: Timestamp,
}

/// A pause, from its request until the execution is resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseRecord {
    /// When it was asked for.
    pub requested: Timestamp,
    /// Why, as the request said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the execution timeout stops running while paused.
    pub execution_timeout_paused: bool,
    /// When it took effect; `None` while `PAUSING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Whether it cut an invocation short, or something the function waits
    /// for arrived while paused: resuming invokes the function again.
    #[serde(default)]
    pub invoke_on_resume: bool,
}

/// What `PauseDurableExecution` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PauseRequest {
    /// Makes a repeated request succeed without pausing again.
    pub client_token: Option<String>,
    /// Why, for the history.
    pub reason: Option<String>,
    /// Whether the execution timeout stops running while paused (the API's
    /// default is `true`).
    pub execution_timeout_paused: bool,
}

/// What `ResumeDurableExecution` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumeRequest {
    /// Makes a repeated request succeed without resuming again.
    pub client_token: Option<String>,
    /// Why, for the history.
    pub reason: Option<String>,
}

/// Where a chained-invoke child reports its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentLink {
    /// The parent execution.
    pub arn: String,
    /// The parent's `CHAINED_INVOKE` operation.
    pub operation_id: String,
}

/// A callback, as the store keeps it: its id routes completions here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRecord {
    /// The unguessable id external systems complete it with.
    pub callback_id: String,
    /// The execution.
    pub arn: String,
    /// The `CALLBACK` operation.
    pub operation_id: String,
    /// When it times out, if ever.
    pub timeout_at: Option<Timestamp>,
    /// Seconds allowed between heartbeats (0: none).
    pub heartbeat_seconds: i64,
    /// When the current heartbeat allowance runs out, if ever.
    pub heartbeat_at: Option<Timestamp>,
}

/// A function call a `CHAINED_INVOKE` start asks for. Kept in the store's
/// outbox from its start until its end is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedInvokeRequest {
    /// The operation waiting for it.
    pub operation_id: String,
    /// The function.
    pub function_name: String,
    /// Its input, as JSON text.
    pub payload: String,
    /// The ARN its execution takes, for a durable function (known, and in
    /// the history, before the execution starts).
    pub execution_arn: Option<String>,
    /// The tenant it runs for.
    pub tenant_id: Option<String>,
}

/// A chained invoke's target, as the engine resolves it when the invoke
/// starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedTarget {
    /// The version that runs (`$LATEST`, `1`).
    pub version: String,
    /// The ARN its execution takes, for a durable function.
    pub execution_arn: Option<String>,
}

/// Resolves a chained invoke's target by name: `None` for no such function.
pub type TargetResolver<'a> = &'a dyn Fn(&str) -> Option<ChainedTarget>;

/// How a chained invoke ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainedOutcome {
    /// With a result.
    Succeeded(Option<String>),
    /// With an error.
    Failed(ErrorObject),
    /// Out of time.
    TimedOut(ErrorObject),
    /// Stopped.
    Stopped(ErrorObject),
}

impl ChainedOutcome {
    /// The error of a chained invoke that ran past `seconds`.
    #[must_use]
    pub fn timed_out(seconds: impl std::fmt::Display) -> ErrorObject {
        ErrorObject::new(
            "ChainedInvoke.Timeout",
            format!("CHAINED_INVOKE timed out after {seconds} seconds."),
        )
    }
}

/// How a callback was completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// With a result.
    Succeeded(Option<String>),
    /// With an error.
    Failed(ErrorObject),
}

impl ExecutionRecord {
    /// How the chained invoke that started this execution ended, from how
    /// the execution ended.
    #[must_use]
    pub fn chained_outcome(&self) -> ChainedOutcome {
        let error = self.error.clone().unwrap_or_default();
        match self.status {
            ExecutionStatus::Succeeded => ChainedOutcome::Succeeded(self.result.clone()),
            ExecutionStatus::TimedOut => {
                ChainedOutcome::TimedOut(ChainedOutcome::timed_out(self.timeout_seconds))
            }
            ExecutionStatus::Stopped => ChainedOutcome::Stopped(error),
            _ => ChainedOutcome::Failed(error),
        }
    }

    /// The execution as `ListDurableExecutionsByFunction` lists it.
    #[must_use]
    pub fn summary(&self) -> ExecutionSummary {
        ExecutionSummary {
            durable_execution_arn: self.arn.clone(),
            durable_execution_name: self.name.clone(),
            function_arn: self.function_arn.clone(),
            status: self.status,
            start_timestamp: self.start,
            end_timestamp: self.end,
        }
    }

    /// The execution as `GetDurableExecution` describes it, with its input,
    /// result and error when `include_data`.
    #[must_use]
    pub fn description(&self, include_data: bool) -> ExecutionDescription {
        let data = |value: &Option<String>| value.clone().filter(|_| include_data);
        ExecutionDescription {
            summary: self.summary(),
            version: self.version.clone(),
            execution_data_included: include_data,
            durable_config: DurableConfigShape {
                execution_timeout: self.timeout_seconds,
                retention_period_in_days: self.retention_days,
            },
            input_payload: include_data.then(|| self.input.clone()),
            result: data(&self.result),
            error: self.error.clone().filter(|_| include_data),
            expected_execution_timeout_timestamp: (!self.status.is_terminal())
                .then(|| self.timeout_at()),
            pause_details: self.pause.as_ref().map(|pause| PauseDetails {
                pause_request_timestamp: pause.requested,
                execution_timeout_paused: pause.execution_timeout_paused,
                reason: data(&pause.reason),
            }),
        }
    }
}
