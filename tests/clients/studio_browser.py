#!/usr/bin/env python3
"""faceswap studio in a real browser: Debian's Chromium, headless, driven through its
chromedriver by Selenium (nothing is downloaded: the driver is named, Selenium Manager is off).

Usage:
  studio_browser.py picture BASE SOURCE TARGET NOT_A_PICTURE OUT.png SHOT.png [KEY]
  studio_browser.py job BASE SOURCE VIDEO DOWNLOAD_DIR SHOT.png
  studio_browser.py status BASE SHOT.png
  studio_browser.py live BASE SOURCE CLIP.y4m SHOT.png FRAME.png SECONDS
  studio_browser.py live_codec BASE SOURCE CLIP.y4m video/h264 FRAME.png

Prints one JSON line with what the page showed; exits non-zero when the page failed.
"""

import base64
import json
import os
import sys
import time

os.environ.setdefault("SE_OFFLINE", "true")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ready  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = os.environ.get("FACESWAP_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.environ.get("FACESWAP_CHROMEDRIVER", "/usr/bin/chromedriver")


def browser(downloads=None, width=1280, height=900, camera=None):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    if camera:
        # Chromium's fake camera plays the clip; the permission prompt is answered yes.
        for arg in ("--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}",
                    "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required"):
            options.add_argument(arg)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads:
        options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                                  "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_script_timeout(120)
    driver.set_page_load_timeout(60)
    if downloads:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return driver


def by_testid(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{name}"]')


def wait(driver, seconds, what, check):
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.2).until(lambda d: check(d))
    except Exception as e:  # the page's own state says more than Selenium's timeout
        errors = [el.text for el in driver.find_elements(By.CSS_SELECTOR, ".error") if el.is_displayed()]
        raise SystemExit(json.dumps({"failed": what, "page_errors": errors, "exception": type(e).__name__}))


# What an <img> or a <video> shows now, read back out of the page as PNG through a canvas (the
# page's policy lets it fetch nothing but the server, blob: URLs included).
READ_PIXELS = """
const shown = arguments[0];
const canvas = document.createElement("canvas");
canvas.width = shown.naturalWidth || shown.videoWidth; canvas.height = shown.naturalHeight || shown.videoHeight;
canvas.getContext("2d").drawImage(shown, 0, 0);
return canvas.toDataURL("image/png").split(",")[1];
"""


# Every control a person can reach has a name a screen reader says.
UNLABELLED = """
return [...document.querySelectorAll('input, select, button, progress')].filter(el => {
  if (el.closest('[hidden]') && el.id !== 'job-upload') return false;
  const label = el.id && document.querySelector(`label[for="${el.id}"]`);
  return !(label || el.closest('label') || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent.trim()));
}).map(el => el.id || el.outerHTML.slice(0, 60));
"""


def console_errors(driver):
    try:
        return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    except Exception:
        return []


def picture(base, source, target, not_a_picture, out, shot, key=None):
    driver = browser()
    report = {}
    try:
        driver.get(base + "/")
        report["title"] = driver.title
        # A file that is not a picture: the server's problem detail is shown in the page.
        by_testid(driver, "swap-target").send_keys(not_a_picture)
        if key:
            dialog = wait(driver, 30, "the key dialog", lambda d: d.find_element(By.ID, "key-dialog").is_displayed()
                          and d.find_element(By.ID, "key-dialog"))
            report["asked_for_key"] = True
            driver.find_element(By.ID, "key-input").send_keys(key)
            driver.find_element(By.ID, "key-ok").click()
            wait(driver, 10, "the dialog to close", lambda d: not dialog.is_displayed())
        error = wait(driver, 60, "the error for a file that is not a picture",
                     lambda d: d.find_element(By.ID, "swap-error").is_displayed() and d.find_element(By.ID, "swap-error"))
        report["not_a_picture_error"] = error.text

        by_testid(driver, "swap-source").send_keys(source)
        by_testid(driver, "swap-target").send_keys(target)
        wait(driver, 60, "the target's faces", lambda d: d.find_element(By.ID, "swap-faces").is_displayed())
        report["faces_listed"] = len(driver.find_elements(By.CSS_SELECTOR, "#swap-face-list input"))
        report["boxes_drawn"] = len(driver.find_elements(By.CSS_SELECTOR, "#swap-boxes .box"))
        report["error_cleared"] = not driver.find_element(By.ID, "swap-error").is_displayed()
        # All faces, by keyboard: focus the box and press space.
        every = driver.find_element(By.ID, "swap-all")
        every.send_keys(" ")
        report["chosen"] = len(driver.find_elements(By.CSS_SELECTOR, "#swap-boxes .box.chosen"))
        by_testid(driver, "swap-run").click()
        result = wait(driver, 120, "the swapped picture",
                      lambda d: (by_testid(d, "swap-result").get_attribute("src") or "").startswith("blob:")
                      and d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", by_testid(d, "swap-result"))
                      and by_testid(d, "swap-result"))
        data = driver.execute_script(READ_PIXELS, result)
        with open(out, "wb") as f:
            f.write(base64.b64decode(data))
        report["state"] = driver.find_element(By.ID, "swap-state").text
        report["result_width"] = driver.execute_script("return arguments[0].naturalWidth", result)
        report["unlabelled"] = driver.execute_script(UNLABELLED)
        driver.save_screenshot(shot)
        # A phone's width: nothing wider than the screen.
        driver.set_window_size(390, 844)
        time.sleep(0.3)
        report["phone_overflow_px"] = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        report["console_errors"] = console_errors(driver)
    finally:
        driver.quit()
    print(json.dumps(report))


def job(base, source, video, downloads, shot):
    driver = browser(downloads=downloads)
    report = {}
    try:
        driver.get(base + "/#video")
        by_testid(driver, "job-source").send_keys(source)
        by_testid(driver, "job-input").send_keys(video)
        by_testid(driver, "job-submit").click()
        wait(driver, 120, "the job in the list", lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="job-progress"]'))
        seen = []

        def done(d):
            # The list is drawn again on every poll: read the bar and the state in one script.
            read = d.execute_script("""
                const bar = document.querySelector('[data-testid="job-progress"]');
                const status = document.querySelector('.job .job-status');
                return bar && status ? [status.textContent, bar.value, bar.max, bar.position] : null;""")
            if not read:
                return False
            status, value = read[0], read[1:]
            if not seen or seen[-1] != [status] + value:
                seen.append([status] + value)
            return status in ("succeeded", "failed", "cancelled") and status

        status = wait(driver, 300, "the job to finish", done)
        report["status"] = status
        report["progress_seen"] = seen
        driver.save_screenshot(shot)
        # A reload keeps the job: the list is the server's.
        driver.refresh()
        wait(driver, 30, "the job after a reload", lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="job-download"]'))
        report["after_reload"] = len(driver.find_elements(By.CSS_SELECTOR, ".job"))
        by_testid(driver, "job-download").click()

        def downloaded(_):
            names = [n for n in os.listdir(downloads) if not n.endswith(".crdownload")]
            return names and names

        report["downloaded"] = wait(driver, 60, "the download", downloaded)
        report["console_errors"] = console_errors(driver)
    finally:
        driver.quit()
    print(json.dumps(report))


def status(base, shot):
    driver = browser()
    report = {}
    try:
        driver.get(base + "/#status")
        wait(driver, 30, "the models", lambda d: d.find_elements(By.CSS_SELECTOR, "#status-models tbody tr"))
        report["models"] = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#status-models tbody tr")]
        report["summary"] = driver.find_element(By.ID, "status-summary").text
        report["swappers"] = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#swap-swapper option")]
        driver.save_screenshot(shot)
        report["console_errors"] = console_errors(driver)
    finally:
        driver.quit()
    print(json.dumps(report))


def start_live(driver, base, source, size=None, codec=None):
    from selenium.webdriver.support.ui import Select
    driver.get(base + "/#live")
    by_testid(driver, "live-source").send_keys(source)
    if size:
        Select(driver.find_element(By.ID, "live-size")).select_by_value(size)
    if codec:
        Select(driver.find_element(By.ID, "live-codec")).select_by_value(codec)
    by_testid(driver, "live-start").click()


def figures(driver):
    overlay = by_testid(driver, "live-stats")
    server, browser_side = overlay.get_attribute("data-server"), overlay.get_attribute("data-browser")
    return (json.loads(server) if server else {}), (json.loads(browser_side) if browser_side else {})


def live(base, source, clip, shot, frame_out, seconds):
    report = {}
    first = browser(camera=clip)
    try:
        start_live(first, base, source)
        wait(first, 120, "the swapped video playing",
             lambda d: d.execute_script("const v = arguments[0]; return v.videoWidth > 0 && v.currentTime > 1",
                                        by_testid(d, "live-video")) and figures(d)[0].get("frames_sent", 0) > 20)
        # Measured over the next seconds, from both ends' own counters.
        samples = []
        until = time.time() + float(seconds)
        while time.time() < until:
            time.sleep(1)
            samples.append(figures(first))
        report["samples"] = [{"server": s, "browser": b} for s, b in samples]
        video = by_testid(first, "live-video")
        report["video_size"] = first.execute_script("return [arguments[0].videoWidth, arguments[0].videoHeight]", video)
        with open(frame_out, "wb") as f:
            f.write(base64.b64decode(first.execute_script(READ_PIXELS, video)))
        report["overlay"] = by_testid(first, "live-stats").text
        first.save_screenshot(shot)

        # A second browser beyond the server's limit is refused, in words, before any media.
        second = browser(camera=clip)
        try:
            start_live(second, base, source)
            error = wait(second, 60, "the refusal",
                         lambda d: d.find_element(By.ID, "live-error").is_displayed() and d.find_element(By.ID, "live-error"))
            report["second_refused"] = error.text
            report["second_start_enabled"] = by_testid(second, "live-start").is_enabled()
        finally:
            second.quit()

        by_testid(first, "live-stop").click()
        report["stopped_state"] = wait(first, 10, "stopped", lambda d: d.find_element(By.ID, "live-state").text == "Stopped."
                                       and d.find_element(By.ID, "live-state").text)
        report["console_errors"] = console_errors(first)
    finally:
        first.quit()
    print(json.dumps(report))


def live_codec(base, source, clip, codec, frame_out):
    """One session with the codec chosen in the page: what went each way, and a frame shown."""
    report = {}
    driver = browser(camera=clip)
    try:
        report["can_send"] = driver.execute_script(
            "return RTCRtpSender.getCapabilities('video').codecs.map(c => c.mimeType.toLowerCase())")
        start_live(driver, base, source, codec=codec)
        wait(driver, 120, "the swapped video playing",
             lambda d: d.execute_script("const v = arguments[0]; return v.videoWidth > 0 && v.currentTime > 1",
                                        by_testid(d, "live-video")) and figures(d)[0].get("frames_sent", 0) > 20)
        time.sleep(2)
        report["server"], report["browser"] = figures(driver)
        with open(frame_out, "wb") as f:
            f.write(base64.b64decode(driver.execute_script(READ_PIXELS, by_testid(driver, "live-video"))))
        report["overlay"] = by_testid(driver, "live-stats").text
        by_testid(driver, "live-stop").click()
        report["console_errors"] = console_errors(driver)
    finally:
        driver.quit()
    print(json.dumps(report))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"picture": picture, "job": job, "status": status, "live": live, "live_codec": live_codec}[command](*args)
