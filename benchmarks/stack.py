"""The embedded stack: start to ready, and peak memory with two browser contexts driving it."""

from __future__ import annotations

import os
import statistics
import time

from playwright.sync_api import Browser, sync_playwright

from benchmarks.figures import Figure, Part, Target
from benchmarks.machine import MemorySampler, children_map, tree
from benchmarks.target import Bench
from harness.browsers import find_chromium, launch_args
from harness.personas import Personas, TestUser, new_run_id
from harness.stack import EmbeddedStack
from harness.store.postgres import PostgresStore
from scenarios.flows import ChatProbe, delivery_ms
from scenarios.pages import ChatPage

MESSAGES = 20


def run(bench: Bench) -> Part:
    """Its own stacks, one after the other (not the shared one)."""
    cycles = bench.n(6, 2)
    starts: list[float] = []
    stops: list[float] = []
    part = Part("stack")
    for cycle in range(cycles):
        stack = EmbeddedStack()
        started = time.perf_counter()
        try:
            stack.start()
            starts.append(time.perf_counter() - started)
            if cycle == cycles - 1:
                memory(stack, part)
        finally:
            stopping = time.perf_counter()
            stack.stop()
            stops.append(time.perf_counter() - stopping)
    part.figures.insert(
        0,
        Figure(
            "stack.start_p50_s", f"embedded stack, start to ready, p50 (n={cycles})",
            statistics.median(starts), "s", Target("<=", 5, "s"),
        ),
    )  # fmt: skip
    part.extra |= {"start_max_s": max(starts), "stop_p50_s": statistics.median(stops)}
    part.notes.insert(
        0,
        f"stack: {cycles} start/stop cycles of EmbeddedStack in this process (initdb + PostgreSQL, "
        "schema install, localstripe, the app under uvicorn, until each answers); "
        f"starts {', '.join(f'{s:.2f}' for s in starts)} s; stop p50 {part.extra['stop_p50_s']:.2f} s.",
    )
    return part


def memory(stack: EmbeddedStack, part: Part) -> None:
    """Sample the stack's and the browser's processes while two contexts chat in a live session."""
    info = stack.info
    assert info is not None
    with PostgresStore(database_url=info.database_url) as store:
        personas = Personas(run_id=new_run_id(), worker_id="bench", seed=time.time_ns())
        customer = personas.create(store, "customer", "customer")
        mechanic = personas.create(store, "mechanic", "mechanic")
        seeded = store.seed_session(
            {"customer": customer.id, "mechanic": mechanic.id, "status": "live", "request": "accepted",
             "plan": "Quick Chat", "age_s": 0.0, "vehicle": {}}
        )  # fmt: skip
        assert seeded is not None
    with sync_playwright() as playwright:
        options = launch_args({"headless": True}, find_chromium(playwright.chromium.executable_path))
        browser = playwright.chromium.launch(**options)

        def groups() -> dict[str, set[int]]:
            children = children_map()
            stack_pids = tree(stack.pids.values(), children)
            # Our other child is the Playwright driver (node); Chromium's processes are its descendants.
            drivers = [p for p in children.get(os.getpid(), []) if p not in stack_pids]
            browser_pids = tree([c for d in drivers for c in children.get(d, [])], children)
            return {"stack": stack_pids, "browser": browser_pids}

        with MemorySampler(groups) as sampler:
            _chat(browser, info.app_url, customer, mechanic, seeded["session_id"])
        browser.close()
    mb = {k: v / 1024 for k, v in sampler.peak_rss_kb.items()}
    pss = {k: v / 1024 for k, v in sampler.peak_pss_kb.items()}
    part.figures += [
        Figure("stack.peak_rss_mb", "peak RSS, stack + browser with 2 contexts", mb["total"], "MB"),
        Figure("stack.peak_pss_mb", "peak PSS (shared pages split), same processes", pss["total"], "MB"),
    ]
    part.extra |= {
        "peak_rss_stack_mb": mb["stack"],
        "peak_rss_browser_mb": mb["browser"],
        "peak_pss_stack_mb": pss["stack"],
        "peak_pss_browser_mb": pss["browser"],
    }
    part.notes.append(
        f"memory: sampled every 100 ms ({sampler.samples} samples) from /proc while two browser contexts "
        f"sign in and exchange {MESSAGES} chat messages in a live session. Stack = app, localstripe, "
        "PostgreSQL's postmaster and all their children; browser = every Chromium process (the "
        "Playwright driver and this Python process not counted). Peak RSS: stack "
        f"{mb['stack']:.0f} MB, browser {mb['browser']:.0f} MB. RSS sums count shared pages once per "
        f"process (Chromium's especially); PSS divides them: {pss['total']:.0f} MB."
    )


def _chat(browser: Browser, app_url: str, customer: TestUser, mechanic: TestUser, session_id: str) -> None:
    chats = []
    for user in (customer, mechanic):
        context = browser.new_context(base_url=app_url)
        page = context.new_page()
        page.goto(f"/{user.role}/login")
        page.get_by_test_id("login-email").fill(user.email)
        page.get_by_test_id("login-password").fill(user.password)
        page.get_by_test_id("login-submit").click()
        page.wait_for_url(lambda url: "/login" not in url)
        chats.append(ChatPage(page).open(session_id))
    for chat in chats:
        chat.wait_until_subscribed()
    probe = ChatProbe(send='[data-testid="chat-send"]', messages='[data-testid="chat-messages"]',
                      body='[data-testid="message-body"]')  # fmt: skip
    for i in range(MESSAGES):
        sender, receiver, text = chats[i % 2], chats[(i + 1) % 2], f"message {i}"
        delivery_ms(sender.page, receiver.page, text, lambda: sender.send(text), probe)  # noqa: B023
