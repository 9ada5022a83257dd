"""10-4: a plugin whose every hook prints its record and then raises; the execution is unaffected."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.plugin import (
    InvocationEndInfo,
    InvocationStartInfo,
    OperationEndInfo,
    OperationStartInfo,
    UserFunctionEndInfo,
    UserFunctionStartInfo,
)

from plugin_records import Factory, RecordingPlugin, is_step


class PluginFault(Exception):
    """Raised by every hook of the faulty plugin."""


class FaultyPlugin(RecordingPlugin):
    def fail(self, hook: str) -> None:
        self.emit(hook)
        raise PluginFault(f"{hook} hook fails on purpose")

    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        self.capture(info)
        self.fail("invocation-start")

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        self.fail("invocation-end")

    def on_operation_start(self, info: OperationStartInfo) -> None:
        if is_step(info):
            self.fail("operation-start")

    def on_operation_end(self, info: OperationEndInfo) -> None:
        if is_step(info):
            self.fail("operation-end")

    def on_user_function_start(self, info: UserFunctionStartInfo) -> None:
        if is_step(info):
            self.fail("attempt-start")

    def on_user_function_end(self, info: UserFunctionEndInfo) -> None:
        if is_step(info):
            self.fail("attempt-end")


@durable_execution(plugins=[Factory(lambda: FaultyPlugin("CONFPLUGIN-FAULTY"))])
def handler(event: str, context: DurableContext) -> str:
    return context.step(lambda _: f"Hello, {event}!")
