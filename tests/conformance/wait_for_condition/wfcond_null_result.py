"""6-10: a check that returns None and a strategy that stops at once; returns None."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision


def nothing(state: None, context: WaitForConditionCheckContext) -> None:
    return None


def stop(state: None, attempt: int) -> WaitForConditionDecision:
    return WaitForConditionDecision.stop_polling()


@durable_execution
def handler(event: None, context: DurableContext) -> None:
    config = WaitForConditionConfig(wait_strategy=stop, initial_state=None)
    return context.wait_for_condition(nothing, config=config)
