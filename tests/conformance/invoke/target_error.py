"""Target of the invoke suite's failing chained invokes (5-5, 5-6, 5-10): a durable function that raises."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


class TargetError(Exception):
    """The target's own failure."""


@durable_execution
def handler(event: Any, context: DurableContext) -> Any:
    raise TargetError("the invoked function failed")
