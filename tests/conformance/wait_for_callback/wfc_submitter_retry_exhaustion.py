"""7-7: one wait_for_callback whose submitter always raises; 2 attempts 1 s apart, then the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, WaitForCallbackConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    """The external system is never reachable."""
    raise RuntimeError(f"could not submit callback {callback_id}")


@durable_execution
def handler(event: str, context: DurableContext) -> str | None:
    retry = create_retry_strategy(RetryStrategyConfig(
        max_attempts=2, initial_delay=Duration.from_seconds(1), jitter_strategy=JitterStrategy.NONE))
    config = WaitForCallbackConfig(retry_strategy=retry)
    return context.wait_for_callback(submit, name=event, config=config)
