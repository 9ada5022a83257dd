"""4-16: a callback whose custom serdes turns the payload into a number; returns it and its double."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext


class NumberSerDes(SerDes[int]):
    """Payload text <-> integer."""

    def serialize(self, value: int, _: SerDesContext) -> str:
        return str(value)

    def deserialize(self, data: str, _: SerDesContext) -> int:
        return int(data)


@durable_execution
def handler(event: str, context: DurableContext) -> dict:
    callback = context.create_callback(name=event, config=CallbackConfig(serdes=NumberSerDes()))
    count = callback.result()
    return {"count": count, "doubled": count * 2}
