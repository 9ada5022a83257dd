"""The JavaScript part's setup, without running anything: what the runner is
given, and where its table goes.

    python3 -m pytest tests/differential -q
"""

import javascript
from run import write_markdown

NODE = javascript.TEMPLATE.parent


def test_the_runner_gets_the_files_orders_serve_runs_and_the_function_they_invoke():
    given = javascript.emulator_input(javascript.cases(), limit_seconds=60)
    by_name = {case["requirement"]: case for case in given["cases"]}
    assert {name: (case["module"], case["export"]) for name, case in by_name.items()} == {
        "NodeDurable": (str(NODE / "durable" / "index.mjs"), "handler"),
        "NodeBusy": (str(NODE / "durable" / "index.mjs"), "busy"),
    }
    # `CHARGE_FUNCTION: !GetAtt ChargeFunction.Arn`: an ARN, under which the plain function is registered.
    charge = by_name["NodeDurable"]["environment"]["CHARGE_FUNCTION"]
    assert charge == javascript.arn_of("ChargeFunction")
    assert given["functions"] == {charge: {"module": str(NODE / "plain" / "index.js"), "export": "handler",
                                           "durable": False}}


def test_the_javascript_table_replaces_only_what_lies_between_its_own_markers(tmp_path):
    page = tmp_path / "CONFORMANCE.md"
    page.write_text("a\n<!-- differential -->\npython\n<!-- /differential -->\n"
                    "b\n<!-- differential-js -->\nold\n<!-- /differential-js -->\nc\n")
    write_markdown(page, "new\n", "differential-js")
    assert page.read_text() == ("a\n<!-- differential -->\npython\n<!-- /differential -->\n"
                                "b\n<!-- differential-js -->\nnew\n<!-- /differential-js -->\nc\n")
