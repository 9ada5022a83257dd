"""6-11: a string state checkpointed through a custom serdes; one "x" per check until "xx"; returns it."""

import base64

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision


class Base64SerDes(SerDes[str]):
    """Checkpoints the text as base64."""

    def serialize(self, value: str, _: SerDesContext) -> str:
        return base64.b64encode(value.encode()).decode()

    def deserialize(self, data: str, _: SerDesContext) -> str:
        return base64.b64decode(data).decode()


def append_x(state: str, context: WaitForConditionCheckContext) -> str:
    return state + "x"


def until_two(state: str, attempt: int) -> WaitForConditionDecision:
    if len(state) >= 2:
        return WaitForConditionDecision.stop_polling()
    return WaitForConditionDecision.continue_waiting(Duration.from_seconds(1))


@durable_execution
def handler(event: None, context: DurableContext) -> str:
    config = WaitForConditionConfig(wait_strategy=until_two, initial_state="", serdes=Base64SerDes())
    return context.wait_for_condition(append_x, config=config)
