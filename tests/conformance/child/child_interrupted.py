"""3-12: a child context whose step crashes the process once, after its StepStarted is checkpointed.

The first time the child runs (it is not replaying), the step waits for the
SDK to send its StepStarted checkpoint and then ends the process, as a Lambda
crash would. On the next invocation the child replays, the step (at least once
per retry) runs again without a new StepStarted and returns the input.
"""

import os
import time

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context
from aws_durable_execution_sdk_python.config import StepConfig
from aws_durable_execution_sdk_python.retries import RetryPresets
from aws_durable_execution_sdk_python.types import StepContext

CHECKPOINT_FLUSH_SECONDS = 2


@durable_with_child_context
def interrupted_child(child: DurableContext, value: str) -> str:
    first_run: bool = not child.is_replaying()

    def crash_once(_: StepContext) -> str:
        if first_run:
            time.sleep(CHECKPOINT_FLUSH_SECONDS)  # StepStarted is checkpointed asynchronously
            os._exit(1)
        return value

    return child.step(crash_once, config=StepConfig(retry_strategy=RetryPresets.none()))


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    return context.run_in_child_context(interrupted_child(event))
