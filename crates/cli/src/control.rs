//! `orders callback`, `stop`, `pause`, `resume`: acting on a served engine.

use std::process::ExitCode;

use crate::remote::{DEFAULT_ENDPOINT, Endpoint, segment};

/// Which endpoint to act on.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// The Lambda endpoint (`orders serve`'s address).
    #[arg(long, default_value = DEFAULT_ENDPOINT, env = "AWS_ENDPOINT_URL_LAMBDA")]
    endpoint: String,
}

/// `orders callback …`.
#[derive(Debug, clap::Subcommand)]
pub enum CallbackCommand {
    /// Completes a callback with a result.
    Succeed {
        /// The callback's id.
        id: String,
        /// The result, JSON text.
        #[arg(long, default_value = "null")]
        result: String,
        /// The endpoint.
        #[command(flatten)]
        target: Target,
    },
    /// Fails a callback.
    Fail {
        /// The callback's id.
        id: String,
        /// The error's type.
        #[arg(long)]
        error_type: Option<String>,
        /// The error's message.
        #[arg(long)]
        error_message: Option<String>,
        /// The endpoint.
        #[command(flatten)]
        target: Target,
    },
    /// Records a heartbeat of a callback.
    Heartbeat {
        /// The callback's id.
        id: String,
        /// The endpoint.
        #[command(flatten)]
        target: Target,
    },
}

/// What to do to an execution.
#[derive(Debug, Clone, Copy)]
pub enum Control {
    /// Stop it.
    Stop,
    /// Pause it; `execution_timeout_paused` stops its timeout meanwhile.
    Pause {
        /// Whether the execution timeout stops running while paused.
        execution_timeout_paused: bool,
    },
    /// Resume it.
    Resume,
}

/// Runs `orders callback …`.
///
/// # Errors
///
/// When the endpoint refuses or cannot be reached.
pub async fn callback(command: CallbackCommand) -> anyhow::Result<ExitCode> {
    let (target, path, body) = match command {
        CallbackCommand::Succeed { id, result, target } => {
            serde_json::from_str::<serde::de::IgnoredAny>(&result)
                .map_err(|error| anyhow::anyhow!("--result is not JSON: {error}"))?;
            (
                target,
                format!(
                    "/2025-12-01/durable-execution-callbacks/{}/succeed",
                    segment(&id)
                ),
                Some(result.into_bytes()),
            )
        }
        CallbackCommand::Fail {
            id,
            error_type,
            error_message,
            target,
        } => {
            let error =
                serde_json::json!({ "ErrorType": error_type, "ErrorMessage": error_message });
            (
                target,
                format!(
                    "/2025-12-01/durable-execution-callbacks/{}/fail",
                    segment(&id)
                ),
                Some(serde_json::to_vec(&error)?),
            )
        }
        CallbackCommand::Heartbeat { id, target } => (
            target,
            format!(
                "/2025-12-01/durable-execution-callbacks/{}/heartbeat",
                segment(&id)
            ),
            None,
        ),
    };
    Endpoint::new(&target.endpoint)
        .call(http::Method::POST, &path, body)
        .await?;
    eprintln!("done");
    Ok(ExitCode::SUCCESS)
}

/// Runs `orders stop | pause | resume ARN`; `message` is the stop's error
/// message, or the pause's or resume's reason.
///
/// # Errors
///
/// When the endpoint refuses or cannot be reached.
pub async fn control(
    control: Control,
    arn: &str,
    message: Option<String>,
    target: &Target,
) -> anyhow::Result<ExitCode> {
    let (action, body) = match control {
        Control::Stop => ("stop", serde_json::json!({ "ErrorMessage": message })),
        Control::Pause {
            execution_timeout_paused,
        } => (
            "pause",
            serde_json::json!({
                "Reason": message,
                "ExecutionTimeoutPaused": execution_timeout_paused,
            }),
        ),
        Control::Resume => ("resume", serde_json::json!({ "Reason": message })),
    };
    let path = format!("/2025-12-01/durable-executions/{}/{action}", segment(arn));
    let answer = Endpoint::new(&target.endpoint)
        .call(http::Method::POST, &path, Some(serde_json::to_vec(&body)?))
        .await?;
    println!("{answer}");
    Ok(ExitCode::SUCCESS)
}
