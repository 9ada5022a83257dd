"""What the plugin suite's plugins share: JSON records on stdout, and a factory.

Each plugin writes one JSON object per hook to plain stdout. Every record
carries `durableExecutionArn`, the ARN the invocation-start hook received, so
that CloudWatch's execution-scoped filter finds it.
"""

import json
from typing import Any, Callable

from aws_durable_execution_sdk_python.plugin import (
    DurableInstrumentationPlugin,
    InvocationStartInfo,
    OperationInfo,
    OperationType,
)


class RecordingPlugin(DurableInstrumentationPlugin):
    """A plugin named `label` that prints its records stamped with the execution ARN."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.execution_arn: str | None = None

    def capture(self, info: InvocationStartInfo) -> None:
        """Keeps the execution ARN of the invocation-start hook's info for later records."""
        self.execution_arn = info.execution_arn

    def emit(self, hook: str, **fields: Any) -> None:
        record = {"plugin": self.label, "hook": hook, **fields, "durableExecutionArn": self.execution_arn}
        print(json.dumps(record), flush=True)


def is_step(info: OperationInfo) -> bool:
    return info.operation_type is OperationType.STEP


class Factory:
    """A plugin factory: one fresh plugin per invocation, built by `build`."""

    def __init__(self, build: Callable[[], DurableInstrumentationPlugin]) -> None:
        self.build = build

    def create_plugin(self, info: InvocationStartInfo, /) -> DurableInstrumentationPlugin:
        return self.build()
