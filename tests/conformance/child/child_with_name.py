"""3-2: a child context named after `event["name"]`; its one step returns `event["value"]`."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> str:
    value: str = event["value"]
    return context.run_in_child_context(
        lambda child: child.step(lambda _: value), name=event["name"]
    )
