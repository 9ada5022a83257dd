"""6-6: a condition that is never met, polled at a fixed delay with at most 3 attempts; the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitStrategyConfig,
    create_wait_strategy,
)


def increment(state: int, context: WaitForConditionCheckContext) -> int:
    return state + 1


@durable_execution
def handler(event: int, context: DurableContext) -> int:
    three_attempts = create_wait_strategy(WaitStrategyConfig(
        should_continue_polling=lambda state: True,
        max_attempts=3,
        initial_delay=Duration.from_seconds(1),
        backoff_rate=1,
        jitter_strategy=JitterStrategy.NONE,
    ))
    config = WaitForConditionConfig(wait_strategy=three_attempts, initial_state=event)
    return context.wait_for_condition(increment, config=config)
