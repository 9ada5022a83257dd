"""The operation-level map serde of 9-19 and 9-20: a whole map result <-> "OPSERDE:X,Y"."""

from aws_durable_execution_sdk_python import BatchResult
from aws_durable_execution_sdk_python.concurrency.models import BatchItem, CompletionReason
from aws_durable_execution_sdk_python.config import BatchItemStatus
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext

PREFIX = "OPSERDE:"


class OpSerDes(SerDes[BatchResult]):
    """Writes the successful results comma-joined after a prefix, and reads them back."""

    def serialize(self, value: BatchResult, serdes_context: SerDesContext) -> str:
        return PREFIX + ",".join(value.get_results())

    def deserialize(self, data: str, serdes_context: SerDesContext) -> BatchResult:
        joined = data.removeprefix(PREFIX)
        results = joined.split(",") if joined else []
        items = [
            BatchItem(index, BatchItemStatus.SUCCEEDED, result)
            for index, result in enumerate(results)
        ]
        return BatchResult(items, CompletionReason.ALL_COMPLETED)
