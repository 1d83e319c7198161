"""Two headless Chromium sessions and one TCP client in one room, driven through the real web
client. Usage: browser_test.py SERVER_BINARY SCREENSHOT_DIR"""
import os
import sys
import tempfile

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from server import LineClient, Server, free_port

binary, shots = sys.argv[1], sys.argv[2]
os.makedirs(shots, exist_ok=True)


def browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,700"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_script_timeout(10)
    return driver


def wait(driver, condition, what, seconds=15):
    # A condition that reads elements the client is re-rendering meanwhile (the message list while
    # a page of history arrives) can find one that is gone by the time it reads it: that is a
    # "not yet", so the wait polls again rather than failing.
    return WebDriverWait(driver, seconds, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)).until(
        condition, message=f"waiting for {what}")


def log_in(driver, port, name, register_password=None):
    driver.get(f"http://127.0.0.1:{port}/")
    field = wait(driver, seen.element_to_be_clickable((By.ID, "login-name")), "the login form")
    field.send_keys(name)
    if register_password:
        driver.find_element(By.ID, "login-password").send_keys(register_password)
        driver.find_element(By.ID, "login-remember").click()
        driver.find_element(By.ID, "login-register").click()
    else:
        field.send_keys(Keys.ENTER)
    wait(driver, seen.visibility_of_element_located((By.ID, "app")), f"{name}'s chat view")


def type_line(driver, text):
    field = driver.find_element(By.ID, "input")
    field.send_keys(text, Keys.ENTER)


def message_texts(driver):
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#messages li.message .text")]


def expect_message(driver, text, what):
    wait(driver, lambda d: text in message_texts(d), what)


def room_item(driver, name):
    for item in driver.find_elements(By.CSS_SELECTOR, "#rooms li"):
        if item.find_element(By.CSS_SELECTOR, ".name").text == name:
            return item
    return None


port = free_port()
step = 0


def shot(driver, label):
    global step
    step += 1
    driver.save_screenshot(os.path.join(shots, f"{step:02d}-{label}.png"))


with tempfile.TemporaryDirectory() as data:
    server = Server(binary, port, ["--data-dir", data]).start()
    alice = bob = None
    try:
        alice, bob = browser(), browser()
        log_in(alice, port, "alice")
        log_in(bob, port, "bob", register_password="correct horse battery")
        assert "guest" not in bob.find_element(By.ID, "me").text, "bob registered an account"
        shot(alice, "alice-logged-in")

        # Alice creates a room of two; Bob sees it appear and joins it from the list.
        alice.find_element(By.ID, "create-name").send_keys("duo")
        limit = alice.find_element(By.ID, "create-limit")
        limit.clear()
        limit.send_keys("2", Keys.ENTER)
        wait(alice, lambda d: d.find_element(By.ID, "title").text == "duo", "alice in duo")
        wait(bob, lambda d: room_item(d, "duo") is not None, "duo in bob's list")
        room_item(bob, "duo").click()
        wait(bob, lambda d: d.find_element(By.ID, "title").text == "duo", "bob in duo")
        wait(alice, lambda d: "bob" in d.find_element(By.ID, "members").text, "bob in alice's member list")

        # The third party, on TCP, is refused: the room is full.
        carol = LineClient(port)
        carol.reply("login", name="carol")
        refused = carol.reply("join", room="duo")
        assert refused["event"] == "error" and refused["params"]["code"] == "room_full", refused
        # And a browser's refusal is shown where it happened.
        type_line(bob, "/leave")
        wait(alice, lambda d: "bob" not in d.find_element(By.ID, "members").text, "bob gone from alice's members")
        assert carol.reply("join", room="duo")["event"] == "joined"
        room_item(bob, "duo").click()
        wait(bob, lambda d: "duo is full (2/2)" in d.find_element(By.ID, "messages").text, "bob told duo is full")
        shot(bob, "bob-room-full")

        # Chat both ways between browser and TCP.
        type_line(alice, "hello from the browser")
        seen_by_carol = carol.until(lambda f: f["event"] == "message" and f["params"]["from"] == "alice")
        assert seen_by_carol["params"]["text"] == "hello from the browser", seen_by_carol
        carol.send("send", room="duo", text="hello from tcp")
        expect_message(alice, "hello from tcp", "carol's message in alice's view")

        # Markup is text: no alert, no new element.
        attack = "<img src=x onerror=alert(1)>"
        carol.send("send", room="duo", text=attack)
        expect_message(alice, attack, "the markup shown as text")
        assert alice.find_elements(By.CSS_SELECTOR, "#messages img") == [], "an element was made from a message"
        try:
            alice.switch_to.alert
            raise AssertionError("an alert opened")
        except NoAlertPresentException:
            pass
        shot(alice, "alice-chat")

        # A restart is survived: the page says it is offline, reconnects, resumes with since.
        carol.close()
        server.stop()
        wait(alice, lambda d: d.find_element(By.ID, "banner").is_displayed(), "the offline banner")
        shot(alice, "alice-offline")
        server.start()
        wait(alice, lambda d: not d.find_element(By.ID, "banner").is_displayed(), "the banner gone", seconds=30)
        carol = LineClient(port)
        carol.reply("login", name="carol")
        assert carol.reply("join", room="duo")["event"] == "joined"
        carol.send("send", room="duo", text="after the restart")
        expect_message(alice, "after the restart", "a message after the restart")
        texts = message_texts(alice)
        assert texts.count("hello from tcp") == 1, f"nothing doubled across the resume: {texts}"
        shot(alice, "alice-after-restart")

        # Up puts the last line back; a direct message shows as an unread conversation.
        alice.find_element(By.ID, "input").send_keys(Keys.ARROW_UP)
        assert alice.find_element(By.ID, "input").get_attribute("value") == "hello from the browser"
        alice.find_element(By.ID, "input").clear()
        wait(bob, lambda d: "guest" not in d.find_element(By.ID, "me").text and not d.find_element(By.ID, "banner").is_displayed(),
             "bob back as his account", seconds=30)
        type_line(alice, "/msg bob psst, bob")
        expect_message(alice, "psst, bob", "alice's own direct message in her view")
        wait(bob, lambda d: any(item.text.startswith("@alice") and "1" in item.text for item in d.find_elements(By.CSS_SELECTOR, "#directs li")),
             "an unread direct message from alice")
        bob.find_element(By.CSS_SELECTOR, "#directs li").click()
        expect_message(bob, "psst, bob", "the direct message")
        # "Keep me logged in": a reload logs bob in again with his session token, with no form.
        bob.refresh()
        wait(bob, lambda d: d.find_element(By.ID, "app").is_displayed() and d.find_element(By.ID, "me").text == "bob",
             "bob logged in again from his saved session")
        stored = bob.execute_script("return Object.keys(localStorage)")
        assert stored == ["actorchat.session"], f"only the session is stored: {stored}"

        # History: a join shows the last 50 messages; scrolling up pages back through the rest.
        carol.reply("create_room", room="long", limit=10)
        carol.reply("join", room="long")
        for index in range(120):
            carol.send("send", room="long", text=f"line {index}")
        carol.until(lambda f: f["event"] == "message" and f["params"]["text"] == "line 119")
        type_line(alice, "/join long")
        wait(alice, lambda d: message_texts(d)[-1:] == ["line 119"] and len(message_texts(d)) == 50, "the last 50 lines of long")
        alice.execute_script("document.getElementById('messages').scrollTop = 0")
        wait(alice, lambda d: len(message_texts(d)) == 100, "50 more lines after scrolling up")
        alice.execute_script("document.getElementById('messages').scrollTop = 0")
        wait(alice, lambda d: message_texts(d)[:1] == ["line 0"] and len(message_texts(d)) == 120, "the first line")
        shot(alice, "alice-history")

        # A phone-width screen, and the dark scheme when the system asks for it.
        alice.set_window_size(390, 800)
        assert not alice.find_element(By.CSS_SELECTOR, ".members").is_displayed(), "the member column folds away on a phone"
        assert alice.find_element(By.ID, "input").is_displayed()
        shot(alice, "alice-phone")
        alice.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        background = alice.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(23, 25, 28)", f"dark background, got {background}"
        shot(alice, "alice-phone-dark")
        print(f"browser test: passed; screenshots in {shots}")
    finally:
        for driver in (alice, bob):
            if driver:
                driver.quit()
        server.stop()
