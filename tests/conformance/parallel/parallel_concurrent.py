"""8-11: three branches, two at a time; results come back in branch order."""

from collections.abc import Callable

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import ParallelConfig


def constant(value: str) -> Callable[[DurableContext], str]:
    def branch(ctx: DurableContext) -> str:
        return value

    return branch


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    branches = [constant(f"r{i}") for i in range(3)]
    batch = context.parallel(
        branches, name="concurrent", config=ParallelConfig(max_concurrency=2)
    )
    return batch.get_results()
