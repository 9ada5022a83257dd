"""The execution explorer in a real browser (headless Chromium, driven by Selenium),
against `orders serve` after it has run the seed order, an order refused by
validation and a durable function waiting on a callback."""

import json
import os
import pathlib
import sys
import time

import pytest

CLIENTS = pathlib.Path(__file__).resolve().parents[1] / "clients"
sys.path.insert(0, str(CLIENTS))

from conftest import CREDENTIALS, ROOT, Server, example, wait_for  # noqa: E402

SCREENSHOTS = ROOT / "target" / "explorer"
README_SHOT = ROOT / "docs" / "explorer-timeline.png"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def served():
    server = Server(CLIENTS / "template.yaml", "explorer", extra=["--explorer-addr", "127.0.0.1:0"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lambda_client(served):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                    region_name="us-east-1")
    return session.client("lambda", endpoint_url=served.url,
                          config=Config(read_timeout=120, retries={"max_attempts": 1}))


def callback_started(client, arn):
    events = client.get_durable_execution_history(DurableExecutionArn=arn, MaxItems=1000)["Events"]
    return any(event["EventType"] == "CallbackStarted" for event in events)


@pytest.fixture(scope="module")
def executions(served, lambda_client):
    """The seed order, an invalid order, and two approvals waiting on their callback."""
    arns = {}
    for key, payload in [("seed", "seed-order.json"), ("invalid", "test-invalid.json")]:
        response = lambda_client.invoke(FunctionName=served.name("ParallelProcessor"), Qualifier="prod",
                                        Payload=json.dumps(example(payload)))
        arns[key] = response["DurableExecutionArn"]
    for key in ["approval", "to-stop"]:
        response = lambda_client.invoke(FunctionName=served.name("Approval"), Qualifier="live",
                                        InvocationType="Event", DurableExecutionName=key,
                                        Payload=json.dumps({"name": key}))
        arns[key] = response["DurableExecutionArn"]
        wait_for(lambda arn=arns[key]: callback_started(lambda_client, arn), f"{key}'s callback", timeout=60)
    return arns


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait_until(driver, condition, what, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        lambda _: condition(), message=f"waiting for {what}")


def rows(driver):
    """The list's rows, name to status, read at once (the list re-renders live)."""
    return dict(driver.execute_script(
        "return [...document.querySelectorAll('#executions tr.execution')]"
        ".map(row => [row.dataset.name, row.dataset.status])"))


def timeline(driver):
    """The timeline's rows, each with its first bar, read at once."""
    return driver.execute_script("""
        return [...document.querySelectorAll('#timeline .row')].map(row => {
            const bar = row.querySelector('rect.bar');
            return {id: row.dataset.id, name: row.dataset.name, type: row.dataset.type,
                    parent: row.dataset.parent, width: Number(bar.getAttribute('width')),
                    start: Number(bar.dataset.startMs), end: Number(bar.dataset.endMs)};
        });""")


def text(driver, element_id):
    """The text of the element `element_id`, read at once ("" when absent)."""
    return driver.execute_script(
        "return document.getElementById(arguments[0])?.innerText ?? ''", element_id)


def press(driver, selector, key="Enter"):
    """Focuses the element `selector` and presses `key` on it, as a keyboard user would."""
    driver.execute_script(
        "const node = document.querySelector(arguments[0]); node.focus();"
        "node.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[1], bubbles: true}));",
        selector, key)


def open_execution(driver, served, arn):
    from urllib.parse import quote

    driver.get(f"{served.explorer}/#/execution/{quote(arn, safe='')}")
    wait_until(driver, lambda: driver.find_elements("css selector", "#summary"), "the execution's header")


def test_the_list_shows_each_execution_with_its_status(served, executions, browser):
    browser.get(served.explorer + "/")
    names = {arn.split("/")[-2]: key for key, arn in executions.items()}
    wait_until(browser, lambda: set(names) <= set(rows(browser)), "every execution in the list")
    listed = rows(browser)
    statuses = {names[name]: status for name, status in listed.items() if name in names}
    assert statuses == {"seed": "SUCCEEDED", "invalid": "SUCCEEDED", "approval": "RUNNING",
                        "to-stop": "RUNNING"}, listed
    # Searching narrows the list to the name.
    search = browser.find_element("css selector", "#filter-search")
    search.send_keys("to-stop")
    wait_until(browser, lambda: list(rows(browser)) == ["to-stop"], "the search's one execution")
    browser.save_screenshot(str(SCREENSHOTS / "list.png"))


def test_the_seed_orders_timeline_shows_the_four_workers_overlapping(served, executions, browser):
    from selenium.webdriver.common.by import By

    open_execution(browser, served, executions["seed"])
    wait_until(browser, lambda: timeline(browser), "the timeline")
    drawn = timeline(browser)
    # Names repeat (each branch holds a step of its name): the last of a name is kept.
    operations = {row["name"]: row for row in drawn}
    parallel = operations["parallel-workers"]
    branches = [row for row in drawn if row["parent"] == parallel["id"]]
    assert sorted(row["name"] for row in branches) == [
        "calculate-shipping", "calculate-tax", "check-inventory", "validate-payment"]
    plot = browser.execute_script("const svg = document.getElementById('timeline-svg');"
                                  "return [Number(svg.dataset.plotPx), Number(svg.dataset.startMs), Number(svg.dataset.endMs)]")
    per_ms = plot[0] / (plot[2] - plot[1])
    for branch in branches:
        # The bar's width follows the branch's recorded duration.
        assert abs(branch["width"] - (branch["end"] - branch["start"]) * per_ms) < 1.0, branch
    latest_start = max(branch["start"] for branch in branches)
    earliest_end = min(branch["end"] for branch in branches)
    assert latest_start < earliest_end, f"the four branches overlap in time: {branches}"
    durations = sorted((branch["end"] - branch["start"], branch["width"]) for branch in branches)
    assert [width for _, width in durations] == sorted(width for _, width in durations), durations
    # The wait is drawn as a wait, and the two invocations are marked.
    assert operations["wait-before-finalize"]["type"] == "WAIT"
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline rect.bar.WAIT")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline .invocation-band")) == 2
    # Selecting an operation with the keyboard shows its details.
    press(browser, f"#timeline .row[data-id='{operations['calculate-tax']['id']}']")
    wait_until(browser, lambda: "calculate-tax" in text(browser, "operation-detail"),
               "the selected operation's details")
    detail = text(browser, "operation-detail")
    assert "STEP" in detail and "Attempts" in detail, detail
    assert browser.find_elements(By.CSS_SELECTOR, "#events tr[data-event-type='ExecutionSucceeded']")
    browser.save_screenshot(str(SCREENSHOTS / "seed-timeline.png"))
    browser.execute_script("document.getElementById('timeline').scrollIntoView()")
    browser.find_element(By.ID, "timeline-section").screenshot(str(README_SHOT))


def test_a_callback_sent_from_the_page_completes_the_execution_live(served, executions, browser):
    from selenium.webdriver.common.by import By

    open_execution(browser, served, executions["approval"])
    browser.execute_script("window.__sameDocument = true")
    callback = wait_until(browser, lambda: [row for row in timeline(browser) if row["name"] == "approval"],
                          "the callback")[0]
    press(browser, f"#timeline .row[data-id='{callback['id']}']")
    result = wait_until(browser, lambda: browser.find_elements(By.ID, "callback-result"), "the callback form")[0]
    result.clear()
    result.send_keys('"approved by the explorer"')
    browser.find_element(By.ID, "callback-succeed").click()
    wait_until(browser, lambda: text(browser, "execution-status") == "succeeded",
               "the execution's success, shown without a reload", timeout=60)
    assert browser.execute_script("return window.__sameDocument === true"), "the page was not reloaded"
    assert "approved by the explorer" in text(browser, "payload-result")
    browser.save_screenshot(str(SCREENSHOTS / "callback.png"))


def test_stop_from_the_page_stops_the_execution(served, executions, browser):
    from selenium.webdriver.common.by import By

    open_execution(browser, served, executions["to-stop"])
    wait_until(browser, lambda: browser.execute_script(
        "return document.getElementById('action-stop')?.disabled === false"), "the stop button")
    browser.execute_script("document.getElementById('action-stop').click()")
    wait_until(browser, lambda: text(browser, "execution-status") == "stopped",
               "the execution stopped")
    browser.save_screenshot(str(SCREENSHOTS / "stopped.png"))


def test_an_execution_started_from_the_page_opens_there(served, executions, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(served.explorer + "/")
    browser.find_element(By.ID, "start-open").click()
    wait_until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#start-function option"), "the functions")
    Select(browser.find_element(By.ID, "start-function")).select_by_value(f"{served.name('Approval')}:live")
    browser.find_element(By.ID, "start-name").send_keys("from-the-page")
    payload = browser.find_element(By.ID, "start-payload")
    payload.clear()
    payload.send_keys('{"name": "page"}')
    browser.find_element(By.ID, "start-submit").click()
    wait_until(browser, lambda: "from-the-page" in browser.execute_script("return location.hash"),
               "the new execution's page")
    wait_until(browser, lambda: text(browser, "execution-status") == "running", "its status")


def test_a_request_from_another_page_cannot_act(served, executions):
    import urllib.request
    from urllib.parse import quote

    request = urllib.request.Request(
        f"{served.explorer}/api/executions/{quote(executions['seed'], safe='')}/stop",
        data=b"ErrorMessage=x", method="POST",
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_no_page_of_another_site_can_frame_the_explorer(served):
    import urllib.request

    for path in ("/", "/api/functions"):
        with urllib.request.urlopen(f"{served.explorer}{path}", timeout=10) as response:
            assert response.headers["X-Frame-Options"] == "DENY"
            policy = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in policy
            assert "script-src 'self'" in policy


def test_the_browser_console_shows_no_errors(browser):
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
