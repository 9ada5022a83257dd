"""8-3: parallel "named" over named-branch objects "first" and "second"."""

from aws_durable_execution_sdk_python import (
    DurableContext,
    ParallelBranch,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import ParallelConfig


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    branches = [
        ParallelBranch(func=lambda ctx: "one", name="first"),
        ParallelBranch(func=lambda ctx: "two", name="second"),
    ]
    batch = context.parallel(
        branches, name="named", config=ParallelConfig(max_concurrency=1)
    )
    return batch.get_results()
