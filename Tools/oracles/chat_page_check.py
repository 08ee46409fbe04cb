"""Opens vpgea-serve's chat page in a real headless browser (Debian's chromium, through selenium and chromedriver),
sends a message by typing it and pressing Enter, waits for the streamed answer, and saves a screenshot. Prints
what the page showed as JSON for the Swift test to judge.

Usage: chat_page_check.py BASE_URL SCREENSHOT.png
"""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

base_url, screenshot = sys.argv[1], sys.argv[2]
options = webdriver.ChromeOptions()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,700"):
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get(base_url + "/")
    models = []
    deadline = time.time() + 30
    while not models and time.time() < deadline:   # the model picker fills from /v1/models
        models = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#model option")]
        time.sleep(0.1)
    box = driver.find_element(By.ID, "input")
    box.send_keys("Write a haiku about rain.")
    box.send_keys(Keys.ENTER)
    # Streaming: the answer grows in steps while the send button stays disabled, then the button comes back.
    lengths, deadline = [], time.time() + 300
    while time.time() < deadline:
        answers = driver.find_elements(By.CSS_SELECTOR, ".turn.assistant .answer")
        text = answers[-1].text if answers else ""
        if not lengths or lengths[-1] != len(text):
            lengths.append(len(text))
        if text and driver.find_element(By.ID, "send").is_enabled():
            break
        time.sleep(0.02)
    driver.save_screenshot(screenshot)
    print(json.dumps({
        "models": models,
        "user": [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".turn.user")],
        "answer": driver.find_elements(By.CSS_SELECTOR, ".turn.assistant .answer")[-1].text,
        "growth_steps": len(lengths),
        "errors": [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".error")],
        "send_enabled": driver.find_element(By.ID, "send").is_enabled(),
    }))
finally:
    driver.quit()
