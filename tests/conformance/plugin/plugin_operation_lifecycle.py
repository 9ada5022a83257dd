"""10-2: a plugin's operation-start and operation-end hooks for one step, with the step's id."""

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.plugin import InvocationStartInfo, OperationEndInfo, OperationStartInfo

from plugin_records import Factory, RecordingPlugin, is_step


class OperationPlugin(RecordingPlugin):
    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        self.capture(info)

    def on_operation_start(self, info: OperationStartInfo) -> None:
        if is_step(info):
            self.emit("operation-start", op=info.operation_id)

    def on_operation_end(self, info: OperationEndInfo) -> None:
        if is_step(info):
            self.emit("operation-end", op=info.operation_id, status=info.status.value)


@durable_execution(plugins=[Factory(lambda: OperationPlugin("CONFPLUGIN"))])
def handler(event: str, context: DurableContext) -> str:
    return context.step(lambda _: f"Hello, {event}!")
