//! What an execution's actor is asked to do, and the handle through which
//! the engine asks it.

use tokio::sync::{mpsc, oneshot};

use super::error::{EngineError, Result};
use crate::execution::{
    CallbackOutcome, ChainedOutcome, InvocationEnd, PauseRequest, ResumeRequest,
};
use crate::model::{CheckpointOutput, ErrorObject, OperationUpdate, StatePage, Timestamp};

/// The inbox of an actor about to run.
pub(super) type Inbox = mpsc::Receiver<Command>;

pub(super) type Reply<T> = oneshot::Sender<Result<T>>;

/// What an actor is asked to do.
pub(super) enum Command {
    Checkpoint {
        token: String,
        client_token: Option<String>,
        updates: Vec<OperationUpdate>,
        reply: Reply<CheckpointOutput>,
    },
    State {
        token: String,
        marker: Option<String>,
        max_items: Option<usize>,
        reply: Reply<StatePage>,
    },
    Callback {
        operation_id: String,
        outcome: Option<CallbackOutcome>,
        reply: Reply<()>,
    },
    ChainedDone {
        operation_id: String,
        outcome: ChainedOutcome,
    },
    InvocationDone {
        id: u64,
        end: InvocationEnd,
    },
    Stop {
        error: Option<ErrorObject>,
        reply: Reply<Timestamp>,
    },
    Pause {
        request: PauseRequest,
        reply: Reply<()>,
    },
    Resume {
        request: ResumeRequest,
        reply: Reply<()>,
    },
    /// Something may be due: fire the timers.
    Wake,
}

impl Command {
    /// Answers the command with `error` (the execution cannot be loaded:
    /// it is over, unknown, or the store failed); one without an answer
    /// is dropped.
    pub(super) fn refuse(self, error: impl FnOnce() -> EngineError) {
        match self {
            Self::Checkpoint { reply, .. } => drop(reply.send(Err(error()))),
            Self::State { reply, .. } => drop(reply.send(Err(error()))),
            Self::Callback { reply, .. }
            | Self::Pause { reply, .. }
            | Self::Resume { reply, .. } => drop(reply.send(Err(error()))),
            Self::Stop { reply, .. } => drop(reply.send(Err(error()))),
            Self::ChainedDone { .. } | Self::InvocationDone { .. } | Self::Wake => {}
        }
    }
}

/// How the engine reaches a resident execution's actor.
#[derive(Debug, Clone)]
pub(super) struct Mailbox {
    /// Tells this actor's entry among the residents from a later one's.
    pub(super) id: u64,
    pub(super) commands: mpsc::Sender<Command>,
}
