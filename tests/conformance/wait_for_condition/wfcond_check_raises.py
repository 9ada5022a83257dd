"""6-7: a wait_for_condition whose check raises at its first call; not caught, so the execution fails."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision


def broken_check(state: int, context: WaitForConditionCheckContext) -> int:
    raise RuntimeError("status service unavailable")


def keep_polling(state: int, attempt: int) -> WaitForConditionDecision:
    return WaitForConditionDecision.continue_waiting(Duration.from_seconds(1))


@durable_execution
def handler(event: None, context: DurableContext) -> int:
    config = WaitForConditionConfig(wait_strategy=keep_polling, initial_state=0)
    return context.wait_for_condition(broken_check, config=config)
