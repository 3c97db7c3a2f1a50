#!/usr/bin/env python3
"""Clicks the jobs page's replay button in headless Chromium, driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: fd 3 in, fd 4 out, NUL-terminated JSON; no library needed).

usage: ui_replay_cdp.py CHROMIUM URL API_TOKEN JOB_ID PROFILE_DIR
Types API_TOKEN into the field, clicks "Replay job JOB_ID", waits for the status line and prints it as
JSON {"status": "...", "console": [...], "exceptions": [...], "stored": {...}}. Exit 1 on a protocol
failure or timeout."""
import json
import os
import subprocess
import sys
import time

chromium, url, token, job, profile = sys.argv[1:6]
to_browser_r, to_browser_w = os.pipe()
from_browser_r, from_browser_w = os.pipe()


def child_fds():
    # Through high numbers first: the pipes' own numbers may be 3 or 4.
    os.dup2(to_browser_r, 100)
    os.dup2(from_browser_w, 101)
    os.dup2(100, 3)
    os.dup2(101, 4)


proc = subprocess.Popen(
    [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
     "--disable-sync", "--disable-background-networking", "--user-data-dir=" + profile,
     "--remote-debugging-pipe", "about:blank"],
    preexec_fn=child_fds, close_fds=False,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_browser_r)
os.close(from_browser_w)
buf = b""
next_id = 0
events = []


def send(method, params=None, session=None):
    global next_id
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params or {}}
    if session:
        msg["sessionId"] = session
    os.write(to_browser_w, json.dumps(msg).encode() + b"\0")
    return next_id


def read_message(deadline):
    global buf
    while b"\0" not in buf:
        if time.time() > deadline:
            raise TimeoutError("no answer from chromium")
        chunk = os.read(from_browser_r, 65536)
        if not chunk:
            raise EOFError("chromium closed the pipe")
        buf += chunk
    raw, buf = buf.split(b"\0", 1)
    return json.loads(raw)


def call(method, params=None, session=None, timeout=20):
    i = send(method, params, session)
    deadline = time.time() + timeout
    while True:
        m = read_message(deadline)
        if m.get("id") == i:
            if "error" in m:
                raise RuntimeError(method + ": " + json.dumps(m["error"]))
            return m.get("result", {})
        events.append(m)


def evaluate(session, expr):
    r = call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True}, session)
    if "exceptionDetails" in r:
        raise RuntimeError("evaluate failed: " + json.dumps(r["exceptionDetails"]))
    return r["result"].get("value")


try:
    target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    call("Runtime.enable", {}, session)
    call("Log.enable", {}, session)
    call("Page.enable", {}, session)
    call("Page.navigate", {"url": url}, session)
    deadline = time.time() + 20
    while evaluate(session, "document.readyState") != "complete":
        if time.time() > deadline:
            raise TimeoutError("the page did not load")
        time.sleep(0.1)
    # Keyboard path: the field and the button are focusable; type, then press the button.
    evaluate(session, "document.getElementById('api-token').focus()")
    call("Input.insertText", {"text": token}, session)
    evaluate(session, "document.querySelector('button[data-replay=\"%s\"]').focus()" % job)
    for kind in ("keyDown", "keyUp"):
        call("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
                                        "text": "\r" if kind == "keyDown" else ""}, session)
    status = ""
    deadline = time.time() + 20
    while time.time() < deadline:
        status = evaluate(session, "document.getElementById('replay-status').textContent")
        if status.startswith("Job ") or "failed" in status:
            break
        time.sleep(0.1)
    stored = evaluate(session, "({local: localStorage.length, session: sessionStorage.length, "
                               "cookie: document.cookie, url: location.href})")
    # Drain what arrived meanwhile.
    call("Runtime.evaluate", {"expression": "1"}, session)
    console = [e["params"]["args"][0].get("value", "") for e in events
               if e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("args")]
    console += [e["params"]["entry"].get("text", "") for e in events if e.get("method") == "Log.entryAdded"]
    exceptions = [json.dumps(e["params"]) for e in events if e.get("method") == "Runtime.exceptionThrown"]
    print(json.dumps({"status": status, "console": console, "exceptions": exceptions, "stored": stored}))
    call("Browser.close")
finally:
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
