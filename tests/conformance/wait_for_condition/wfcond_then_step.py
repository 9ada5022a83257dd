"""6-12: count from 0 up to the input (2), then a step multiplies the result by 10; returns 20."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision


def increment(state: int, context: WaitForConditionCheckContext) -> int:
    return state + 1


@durable_execution
def handler(event: int, context: DurableContext) -> int:
    def until_threshold(state: int, attempt: int) -> WaitForConditionDecision:
        if state >= event:
            return WaitForConditionDecision.stop_polling()
        return WaitForConditionDecision.continue_waiting(Duration.from_seconds(1))

    config = WaitForConditionConfig(wait_strategy=until_threshold, initial_state=0)
    count = context.wait_for_condition(increment, config=config)
    return context.step(lambda _: count * 10)
