"""6-2: initial state 5, a check that keeps it, a strategy that stops at >= 5: no suspension; returns 5."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision


def unchanged(state: int, context: WaitForConditionCheckContext) -> int:
    return state


def until_five(state: int, attempt: int) -> WaitForConditionDecision:
    if state >= 5:
        return WaitForConditionDecision.stop_polling()
    return WaitForConditionDecision.continue_waiting(Duration.from_seconds(1))


@durable_execution
def handler(event: int, context: DurableContext) -> int:
    config = WaitForConditionConfig(wait_strategy=until_five, initial_state=5)
    return context.wait_for_condition(unchanged, config=config)
