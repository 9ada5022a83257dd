"""8-21: the single branch of parallel "outer" runs parallel "inner" of two steps."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import ParallelConfig


def inner_first(ctx: DurableContext) -> str:
    return ctx.step(lambda _: "i1", name="i1")


def inner_second(ctx: DurableContext) -> str:
    return ctx.step(lambda _: "i2", name="i2")


def outer_branch(ctx: DurableContext) -> list[str]:
    inner = ctx.parallel(
        [inner_first, inner_second], name="inner", config=ParallelConfig(max_concurrency=1)
    )
    return inner.get_results()


@durable_execution
def handler(event: None, context: DurableContext) -> list[list[str]]:
    outer = context.parallel(
        [outer_branch], name="outer", config=ParallelConfig(max_concurrency=1)
    )
    return outer.get_results()
