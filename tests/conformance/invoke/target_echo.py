"""Target of the invoke suite's chained invokes: a durable function returning its input unchanged."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: Any, context: DurableContext) -> Any:
    return event
