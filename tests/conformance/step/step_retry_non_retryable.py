"""1-16: a retry strategy that does not retry TransientError; the step raises it and fails."""

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from aws_durable_execution_sdk_python.retries import RetryDecision


class TransientError(Exception):
    """A failure this strategy declines to retry."""


def no_retry_on_transient_error(error: Exception, attempts_made: int) -> RetryDecision:
    if isinstance(error, TransientError) or attempts_made >= 3:
        return RetryDecision.no_retry()
    return RetryDecision.retry(Duration.from_seconds(1))


@durable_step
def fail(_: StepContext) -> str:
    raise TransientError("not retried")


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    return context.step(fail(), config=StepConfig(retry_strategy=no_retry_on_transient_error))
