"""1-4: a step returning a nested object (dicts, a list, a number)."""

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution, durable_step


@durable_step
def build_response(_: StepContext, person: dict[str, Any]) -> dict[str, Any]:
    tags = list(person["tags"])
    return {"user": {"name": person["name"], "tags": tags}, "count": len(tags)}


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    return context.step(build_response(event))
