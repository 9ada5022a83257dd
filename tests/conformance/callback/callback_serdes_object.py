"""4-15: a callback whose custom serdes turns the JSON payload into a typed object with a datetime."""

import json
from dataclasses import dataclass
from datetime import datetime

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext


@dataclass(frozen=True)
class Received:
    id: str
    message: str
    timestamp: datetime


class ReceivedSerDes(SerDes[Received]):
    """JSON text <-> Received; the timestamp travels as ISO 8601 text."""

    def serialize(self, value: Received, _: SerDesContext) -> str:
        return json.dumps({"id": value.id, "message": value.message,
                           "timestamp": value.timestamp.isoformat()})

    def deserialize(self, data: str, _: SerDesContext) -> Received:
        fields = json.loads(data)
        timestamp = datetime.fromisoformat(fields["timestamp"].replace("Z", "+00:00"))
        return Received(id=fields["id"], message=fields["message"], timestamp=timestamp)


@durable_execution
def handler(event: str, context: DurableContext) -> dict:
    callback = context.create_callback(name=event, config=CallbackConfig(serdes=ReceivedSerDes()))
    received = callback.result()
    return {"received": {"id": received.id, "message": received.message,
                         "timestamp": int(received.timestamp.timestamp())}}
