"""The invocation-hook plugin of 10-1, 10-5, 10-6 and 10-7.

It prints `{"plugin": <label>, "hook": "invocation-start", "first": <is first invocation>}`
when an invocation starts and `{"plugin": <label>, "hook": "invocation-end", "status": <status>}`
when it ends.
"""

from aws_durable_execution_sdk_python.plugin import InvocationEndInfo, InvocationStartInfo

from plugin_records import Factory, RecordingPlugin


class InvocationPlugin(RecordingPlugin):
    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        self.capture(info)
        self.emit("invocation-start", first=info.is_first_invocation)

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        self.emit("invocation-end", status=info.status.value)


def invocation_plugin(label: str = "CONFPLUGIN") -> Factory:
    return Factory(lambda: InvocationPlugin(label))
