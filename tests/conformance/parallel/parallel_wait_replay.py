"""8-14: branch 1 suspends on a 2 s wait; on replay branch 0 is not run again."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, ParallelConfig


def branch0(ctx: DurableContext) -> str:
    return ctx.step(lambda _: "b0", name="b0")


def branch1(ctx: DurableContext) -> str:
    ctx.wait(Duration.from_seconds(2))
    return "b1"


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    batch = context.parallel(
        [branch0, branch1], name="replay", config=ParallelConfig(max_concurrency=1)
    )
    return batch.get_results()
