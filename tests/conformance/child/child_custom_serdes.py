"""3-14: a child context whose custom serdes writes its result in upper case ("hello child" -> HELLO CHILD)."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution, durable_with_child_context
from aws_durable_execution_sdk_python.config import ChildConfig
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext


class UpperCaseSerDes(SerDes[str]):
    """Serializes a string as its upper-case text (no JSON quoting); reads it back as is."""

    def serialize(self, value: str, _: SerDesContext) -> str:
        return value.upper()

    def deserialize(self, data: str, _: SerDesContext) -> str:
        return data


@durable_with_child_context
def echo_child(child: DurableContext, value: str) -> str:
    return child.step(lambda _: value)


@durable_execution
def handler(event: str, context: DurableContext) -> str:
    return context.run_in_child_context(
        echo_child(event), config=ChildConfig(serdes=UpperCaseSerDes())
    )
