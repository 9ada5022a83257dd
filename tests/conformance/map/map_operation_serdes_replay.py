"""9-20: as 9-19, then a 1 s wait; on replay the map result is read back through the serde."""

from collections.abc import Sequence

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, MapConfig
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES

from opserde import OpSerDes


def upper(ctx: DurableContext, item: str, index: int, items: Sequence[str]) -> str:
    return item.upper()


@durable_execution
def handler(event: None, context: DurableContext) -> list[str]:
    # Items keep the SDK's default serde; only the whole result goes through OpSerDes.
    config = MapConfig(
        max_concurrency=1, serdes=OpSerDes(), item_serdes=EXTENDED_TYPES_SERDES
    )
    batch = context.map(["x", "y"], upper, name="op-serde-replay", config=config)
    context.wait(Duration.from_seconds(1))
    return batch.get_results()
