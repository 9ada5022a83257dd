"""1-17: an at-most-once step (no retry) logs its input, then crashes the process.

The next invocation finds the step started but not finished: the SDK raises
StepInterruptedError, does not retry, and the execution fails.
"""

import logging
import os
import sys

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step
from aws_durable_execution_sdk_python.config import StepConfig, StepSemantics
from aws_durable_execution_sdk_python.retries import RetryPresets


def crash() -> None:
    """Ends the runtime process at once, as a crash would (after flushing the log)."""
    for log_handler in logging.getLogger().handlers:
        log_handler.flush()
    sys.stdout.flush()
    os._exit(1)


@durable_step
def at_most_once_flaky_step(step_context: StepContext, text: str) -> str:
    step_context.logger.info(f"at-most-once step running for: {text}")
    crash()
    return "unreachable"


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    return context.step(
        at_most_once_flaky_step(event),
        name="at_most_once_flaky_step",
        config=StepConfig(
            retry_strategy=RetryPresets.none(),
            step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY,
        ),
    )
