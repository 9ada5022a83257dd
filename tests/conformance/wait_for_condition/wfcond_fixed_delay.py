"""6-5: a counter from 0 up to the input (3), polled by the SDK's wait strategy with a fixed 2-second delay."""

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
    every_two_seconds = create_wait_strategy(WaitStrategyConfig(
        should_continue_polling=lambda state: state < event,
        initial_delay=Duration.from_seconds(2),
        backoff_rate=1,
        jitter_strategy=JitterStrategy.NONE,
    ))
    config = WaitForConditionConfig(wait_strategy=every_two_seconds, initial_state=0)
    return context.wait_for_condition(increment, config=config)
