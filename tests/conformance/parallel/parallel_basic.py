"""8-1: a named parallel of two branches, each running one step, one at a time."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import ParallelConfig


def branch0(ctx: DurableContext) -> str:
    return ctx.step(lambda _: "task-1", name="task-1")


def branch1(ctx: DurableContext) -> str:
    return ctx.step(lambda _: "task-2", name="task-2")


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    batch = context.parallel(
        [branch0, branch1], name="parallel", config=ParallelConfig(max_concurrency=1)
    )
    return batch.get_results()
