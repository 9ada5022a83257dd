"""1-18: an at-most-once step with retry: attempt 1 logs its input and crashes, attempt 2 succeeds.

After the crash the SDK finds the step interrupted and schedules a retry
(StepFailed with RetryDetails); the retry logs the input again and succeeds.
"""

import logging
import os
import sys

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig, StepSemantics
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

RETRY = create_retry_strategy(RetryStrategyConfig(
    max_attempts=3, initial_delay=Duration.from_seconds(1), jitter_strategy=JitterStrategy.NONE,
))


def crash() -> None:
    """Ends the runtime process at once, as a crash would (after flushing the log)."""
    for log_handler in logging.getLogger().handlers:
        log_handler.flush()
    sys.stdout.flush()
    os._exit(1)


@durable_step
def flaky(step_context: StepContext, text: str) -> str:
    step_context.logger.info(f"at-most-once step attempt {step_context.attempt} for: {text}")
    if step_context.attempt == 1:
        crash()
    return "succeeded on second attempt"


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    return context.step(
        flaky(event),
        config=StepConfig(retry_strategy=RETRY, step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY),
    )
