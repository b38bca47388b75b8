#!/usr/bin/env python3
"""The dashboard in a real browser: Debian's Chromium, driven through chromedriver by selenium, loads the page from
a real control-api serving generations that real `engine backtest` runs published, and checks what a person would
see. Run by scripts/test-browser (which installs what it needs); BIN_PATH names the directory of the built
`engine` and `control-api`.

    python3 Tests/Browser/dashboard_test.py                      # the tests
    python3 Tests/Browser/dashboard_test.py --screenshot URL OUT # a PNG of the page at URL (docs/dashboard.png)
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("BIN_PATH") or os.path.join(ROOT, ".build", "debug")
CHROMIUM = os.environ.get("ARENA_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ARENA_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 30


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


class ControlAPI:
    """A control-api process serving `data` on a free loopback port."""

    def __init__(self, data, config=None):
        self.port = free_port()
        self.log = open(os.path.join(os.path.dirname(data), f"api-{self.port}.log"), "w")
        command = [os.path.join(BIN, "control-api"), "--data-path", data, "--port", str(self.port)]
        if config:
            command += ["--config", config]
        self.process = subprocess.Popen(command + ["--log-level", "error"], stdout=self.log, stderr=self.log, cwd=ROOT)
        wait_for_port(self.port)
        self.origin = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


def backtest(out, start, end):
    """Runs the embedded default's baseline traders over [start, end) and returns the generation it published."""
    environment = {k: v for k, v in os.environ.items() if k != "DEEPSEEK_API_KEY"}
    subprocess.run(
        [os.path.join(BIN, "engine"), "backtest", "--config", "etc/arena.yaml", "--from", start, "--to", end,
         "--out", out, "--record-prompts", "--quiet", "--overwrite"],
        cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = os.path.join(out, "mcp-data")
    return os.path.join(data, os.readlink(os.path.join(data, "current")))


def publish(data, generation, number, published_at=None):
    """Publishes a copy of `generation` as generations/<number> the way the engine does: the `current` link is
    replaced atomically."""
    target = os.path.join(data, "generations", str(number))
    shutil.copytree(generation, target)
    if published_at is not None:
        os.utime(target, (published_at, published_at))
    temporary = os.path.join(data, "current.tmp")
    os.symlink(f"generations/{number}", temporary)
    os.replace(temporary, os.path.join(data, "current"))


def document(generation, name):
    with open(os.path.join(generation, name + ".json")) as file:
        return json.load(file)


def trader_names():
    """Trader id → name, from the embedded default's manager.yaml (the names the page must show)."""
    names, current = {}, None
    with open(os.path.join(ROOT, "etc", "manager.yaml")) as file:
        for line in file:
            stripped = line.strip()
            if stripped.startswith("- id:"):
                current = stripped.split(":", 1)[1].strip().strip("\"'")
            elif stripped.startswith("name:") and current:
                names[current] = stripped.split(":", 1)[1].strip().strip("\"'")
                current = None
    return names


def make_browser(width=1280, height=1800):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def usd(value):
    return ("-" if value < 0 else "") + f"${abs(value):,.2f}"


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="arena-browser.")
        # Two real runs of the bundled candles: 70 minutes (its last cycles hold refused and accepted entries: the
        # EMA trader's cooldown after its first stops), then two days (the "next" generation of the same arena).
        cls.first = backtest(os.path.join(cls.work, "run-a"), "2025-07-14T15:00:00Z", "2025-07-14T16:10:00Z")
        cls.second = backtest(os.path.join(cls.work, "run-b"), "2025-07-14T15:00:00Z", "2025-07-16T15:00:00Z")
        cls.names = trader_names()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="data.", dir=self.work)
        self.api = None
        self.browser = None

    def tearDown(self):
        if self.browser:
            self.browser.quit()
        if self.api:
            self.api.stop()

    def open(self, width=1280, height=1800):
        self.api = ControlAPI(self.data)
        self.browser = make_browser(width, height)
        self.browser.get(self.api.origin + "/")
        return self.browser

    def wait_for(self, condition, message):
        return WebDriverWait(self.browser, WAIT).until(lambda driver: condition(driver), message)

    def wait_for_generation(self, generation):
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-generation") == generation,
                      f"the page never showed generation {generation}")

    def requests(self):
        """Every request the browser sent since the last call: (url, headers)."""
        sent = []
        for entry in self.browser.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                request = message["params"]["request"]
                sent.append((request["url"], request.get("headers", {})))
        return sent

    def console_errors(self):
        # Chromium reports every non-2xx fetch as a console error; the 503s of an empty arena are expected.
        return [entry["message"] for entry in self.browser.get_log("browser")
                if entry["level"] == "SEVERE" and "503" not in entry["message"]]

    def test_the_page_shows_a_real_run_and_follows_new_generations(self):
        publish(self.data, self.first, 1)
        browser = self.open()
        self.wait_for_generation("g1")
        body = browser.find_element(By.TAG_NAME, "body")
        self.assertIn(body.get_attribute("data-state"), ("ok", "stale"))

        # The leaderboard: every trader, with its name and account value.
        leaderboard = document(self.first, "leaderboard")["leaderboard"]
        self.assertGreaterEqual(len(leaderboard), 2)
        rows = browser.find_elements(By.CSS_SELECTOR, "#leaderboard-table tbody tr[data-trader]")
        self.assertEqual([row.get_attribute("data-trader") for row in rows], [entry["id"] for entry in leaderboard])
        for entry, row in zip(leaderboard, rows):
            self.assertIn(self.names[entry["id"]], row.text)
            self.assertIn(usd(entry["equity"]), row.text)
            self.assertIn(entry["llm_model"], row.text)

        # Sorting: by account value, ascending on a second click.
        header = browser.find_element(By.XPATH, "//table[@id='leaderboard-table']//th/button[text()='Account value']")
        header.click()
        header = browser.find_element(By.XPATH, "//table[@id='leaderboard-table']//th/button[text()='Account value']")
        header.click()
        ordered = [row.get_attribute("data-trader")
                   for row in browser.find_elements(By.CSS_SELECTOR, "#leaderboard-table tbody tr[data-trader]")]
        self.assertEqual(ordered, [entry["id"] for entry in sorted(leaderboard, key=lambda e: e["equity"])])

        # The chart: one series per trader, drawn through every account-totals row, plus the reference lines.
        paths = browser.find_elements(By.CSS_SELECTOR, "#chart svg path.series")
        self.assertEqual(sorted(p.get_attribute("data-trader") for p in paths), sorted(e["id"] for e in leaderboard))
        totals = document(self.first, "account-totals")["accountTotals"]
        for path in paths:
            trader = path.get_attribute("data-trader")
            rows_of_trader = [row for row in totals if row["model_id"] == trader]
            self.assertGreaterEqual(path.get_attribute("d").count("L") + 1, len(rows_of_trader))
        self.assertTrue(browser.find_elements(By.CSS_SELECTOR, "#chart svg line.reference"))
        legend = browser.find_element(By.ID, "legend").text
        for entry in leaderboard:
            self.assertIn(self.names[entry["id"]], legend)
        self.assertIn("starting capital", legend)
        # Hover values: the tooltip names every trader with a value.
        ActionChains(browser).move_to_element(browser.find_element(By.CSS_SELECTOR, "#chart svg")).perform()
        tip = self.wait_for(lambda d: d.find_element(By.ID, "chart-tip").is_displayed()
                            and d.find_element(By.ID, "chart-tip"), "no tooltip on hover")
        for entry in leaderboard:
            self.assertIn(self.names[entry["id"]], tip.text)
        # The keyboard reaches the same values.
        chart = browser.find_element(By.ID, "chart")
        chart.send_keys(Keys.ARROW_LEFT)
        self.assertTrue(browser.find_element(By.ID, "chart-tip").is_displayed())
        # A legend entry hides its series.
        browser.find_element(By.CSS_SELECTOR, f"#legend button[data-series='{leaderboard[0]['id']}']").click()
        self.assertEqual(len(browser.find_elements(By.CSS_SELECTOR, "#chart svg path.series")), len(leaderboard) - 1)
        browser.find_element(By.CSS_SELECTOR, f"#legend button[data-series='{leaderboard[0]['id']}']").click()

        # Open positions with their exit plan and liquidation price.
        positions = document(self.first, "positions")["accountTotals"]
        shown = 0
        for entry in positions:
            for symbol, position in entry["positions"].items():
                row = browser.find_element(
                    By.CSS_SELECTOR, f"#positions-body [data-trader='{entry['model_id']}'] tr[data-symbol='{symbol}']")
                self.assertIn(position["exit_plan"]["invalidation_condition"], row.text)
                self.assertIn("liquidation_price", position)
                cells = row.find_elements(By.TAG_NAME, "td")
                self.assertNotEqual(cells[7].text, "–", "no liquidation price shown")
                self.assertEqual(cells[1].text, "short" if position["quantity"] < 0 else "long")
                shown += 1
        self.assertGreater(shown, 0, "the run left no open position to show")

        # Completed trades, newest first, paged.
        trades = sorted(document(self.first, "trades")["trades"], key=lambda t: -t["exit_time"])
        self.assertGreater(len(trades), 0)
        first_row = browser.find_element(By.CSS_SELECTOR, "#trades-table tbody tr[data-trade]")
        self.assertEqual(first_row.get_attribute("data-trade"), trades[0]["trade_id"])
        self.assertIn(f"{len(trades)} trades", browser.find_element(By.ID, "trades-page").text)
        self.assertLessEqual(len(browser.find_elements(By.CSS_SELECTOR, "#trades-table tbody tr[data-trade]")), 10)

        # The model chat: a cycle with its decisions' verdicts and reason codes.
        conversations = document(self.first, "conversations")["conversations"]
        with_verdicts = [c for c in conversations if c.get("verdicts")]
        self.assertTrue(with_verdicts, "the snapshot's conversations carry no verdicts")
        conversation = with_verdicts[0]
        article = browser.find_element(By.CSS_SELECTOR, f"article.convo[data-cycle='{conversation['cycle_id']}']")
        verdict_rows = article.find_elements(By.CSS_SELECTOR, "tr[data-verdict]")
        self.assertEqual(len(verdict_rows), len(conversation["verdicts"]))
        for verdict, row in zip(conversation["verdicts"], verdict_rows):
            self.assertEqual(row.get_attribute("data-verdict"), "accepted" if verdict["accepted"] else "refused")
            self.assertIn(verdict["symbol"], row.text)
            for reason in verdict["reasons"]:
                self.assertIn(reason, row.text)
        self.assertIn(self.names[conversation["model_id"]], article.text)

        # Model spend: one row per trader and model.
        analytics = document(self.first, "analytics")["analytics"]
        expected = sum(len(a.get("llm_cost_breakdown_table", {}).get("models", [])) for a in analytics)
        self.assertEqual(len(browser.find_elements(By.CSS_SELECTOR, "#spend-table tbody tr[data-trader]")), expected)

        # Results by prompt version: one row per version across traders, with its cycles.
        versions = document(self.first, "prompt-versions")["acrossTraders"]
        self.assertTrue(versions)
        version_rows = browser.find_elements(By.CSS_SELECTOR, "#prompt-versions-table tbody tr[data-key]")
        self.assertEqual([row.get_attribute("data-key") for row in version_rows], [v["key"] for v in versions])
        for version, row in zip(versions, version_rows):
            self.assertIn(f"{version['cycles']:,}", row.text)
            for template in version["templates"]:
                self.assertIn(template["sha256"][:12], row.text)

        # Nothing was fetched from anywhere but the page's own origin.
        first_round = self.requests()
        self.assertTrue(any(url.endswith("/api/leaderboard") for url, _ in first_round))
        for url, _ in first_round:
            self.assertTrue(url.startswith(self.api.origin + "/"), f"a request left the origin: {url}")
        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])")
        for url in resources:
            self.assertTrue(url.startswith(self.api.origin + "/"), f"a resource from another origin: {url}")
        self.assertEqual(self.console_errors(), [])

        # A new generation appears without a reload, fetched with conditional requests on the ETags.
        browser.execute_script("window.__arenaMarker = 42")
        publish(self.data, self.second, 2)
        self.wait_for_generation("g2")
        self.assertEqual(browser.execute_script("return window.__arenaMarker"), 42, "the page was reloaded")
        second_board = document(self.second, "leaderboard")["leaderboard"]
        for entry in second_board:
            row = browser.find_element(By.CSS_SELECTOR, f"#leaderboard-table tbody tr[data-trader='{entry['id']}']")
            self.assertIn(usd(entry["equity"]), row.text)
        second_trades = sorted(document(self.second, "trades")["trades"], key=lambda t: -t["exit_time"])
        self.assertIn(f"{len(second_trades)} trades", browser.find_element(By.ID, "trades-page").text)
        self.assertGreater(len(second_trades), 10, "the second run has too few trades to page")
        browser.find_element(By.ID, "trades-next").click()
        first_row = browser.find_element(By.CSS_SELECTOR, "#trades-table tbody tr[data-trade]")
        self.assertEqual(first_row.get_attribute("data-trade"), second_trades[10]["trade_id"])
        self.assertIn("Page 2 of", browser.find_element(By.ID, "trades-page").text)
        conditional = [headers for url, headers in self.requests() if url.endswith("/api/leaderboard")]
        self.assertTrue(conditional, "the leaderboard was not fetched again")
        self.assertTrue(any(h.get("If-None-Match", "").startswith('"g1') for h in conditional),
                        f"no conditional request on the ETag: {conditional}")

        # A generation published long ago is called stale.
        publish(self.data, self.second, 3, published_at=time.time() - 3600)
        self.wait_for_generation("g3")
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "stale",
                      "old data was not called stale")
        self.assertIn("stale", browser.find_element(By.ID, "banner").text)

        # A trader halted by a kill switch, one paused and on a fallback model, are marked as such.
        marked = os.path.join(self.work, "marked")
        shutil.copytree(self.second, marked, dirs_exist_ok=True)
        board = document(marked, "leaderboard")
        halted, paused = board["leaderboard"][0], board["leaderboard"][1]
        halted.update(status="halted", status_reason="drawdown kill switch: fell 15 % from its peak")
        paused.update(status="paused", status_reason="failed closed 3 cycles in a row", model_in_use="backup-model")
        with open(os.path.join(marked, "leaderboard.json"), "w") as file:
            json.dump(board, file)
        publish(self.data, marked, 4)
        self.wait_for_generation("g4")
        row = browser.find_element(By.CSS_SELECTOR, f"#leaderboard-table tbody tr[data-trader='{halted['id']}']")
        self.assertEqual(row.get_attribute("data-status"), "halted")
        self.assertIn("halted", row.text)
        self.assertIn("drawdown kill switch", row.text)
        row = browser.find_element(By.CSS_SELECTOR, f"#leaderboard-table tbody tr[data-trader='{paused['id']}']")
        self.assertIn("paused", row.text)
        self.assertIn("fallback: backup-model", row.text)
        self.assertEqual(self.console_errors(), [])

    def test_an_empty_data_directory_says_so_then_fills_in(self):
        browser = self.open()
        self.wait_for(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "empty",
                      "the empty state was not shown")
        banner = browser.find_element(By.ID, "banner")
        self.assertTrue(banner.is_displayed())
        self.assertIn("published nothing yet", banner.text)
        self.assertIn("No data yet", browser.find_element(By.ID, "leaderboard").text)
        self.assertEqual(self.console_errors(), [])
        publish(self.data, self.first, 7)
        self.wait_for_generation("g7")
        self.assertFalse(browser.find_element(By.ID, "banner").is_displayed())
        self.assertTrue(browser.find_elements(By.CSS_SELECTOR, "#leaderboard-table tbody tr[data-trader]"))

    def test_a_phone_sized_screen_in_dark_mode(self):
        publish(self.data, self.first, 1)
        browser = self.open(width=390, height=844)
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        self.wait_for_generation("g1")
        # Nothing wider than the screen: wide tables scroll inside their own box.
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        self.assertLessEqual(overflow, 0, "the page is wider than a phone's screen")
        self.assertEqual(len(browser.find_elements(By.CSS_SELECTOR, "#chart svg path.series")),
                         len(document(self.first, "leaderboard")["leaderboard"]))
        # Dark: light text on a dark background.
        colours = browser.execute_script(
            "const s = getComputedStyle(document.body); return [s.backgroundColor, s.color]")

        def luminance(css):
            red, green, blue = [int(part) for part in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
            return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255

        self.assertLess(luminance(colours[0]), 0.2, colours)
        self.assertGreater(luminance(colours[1]), 0.7, colours)
        # Keyboard: the first tab stop is the skip link, and the sort buttons are reachable.
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        self.assertEqual(browser.switch_to.active_element.get_attribute("class"), "skip")


def screenshot(url, out, width=1280, height=2400):
    browser = make_browser(width, height)
    try:
        browser.get(url)
        WebDriverWait(browser, WAIT).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-generation"), "no generation shown")
        time.sleep(0.5)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(height + 40, 6000))
        time.sleep(0.5)
        browser.save_screenshot(out)
    finally:
        browser.quit()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--screenshot":
        screenshot(sys.argv[2], sys.argv[3])
    else:
        unittest.main(verbosity=2)
