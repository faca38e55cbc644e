"""The embedded stack: start to ready, peak memory with two browser contexts driving it, and
the latency of a Stripe call with many objects in localstripe's store."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, sync_playwright

from benchmarks.figures import Figure, Part, Target, percentile
from benchmarks.machine import MemorySampler, children_map, tree
from benchmarks.target import Bench
from harness.engine.browsers import find_chromium, launch_args
from harness.engine.identity import new_run_id
from harness.engine.personas import Personas, TestUser
from harness.flows.pages import ChatPage
from harness.flows.steps import delivery_ms
from harness.stack.embedded import EmbeddedStack, processes
from harness.stack.postgres import free_port
from harness.store.postgres import PostgresStore

MESSAGES = 20
STRIPE_OBJECTS = 1000
STRIPE_KEY = ("sk_test_pitstop_bench", "")


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
        options = launch_args(
            {"headless": True}, find_chromium(playwright.chromium.executable_path, headless=True)
        )
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
        ChatPage.ready().wait(chat.page)
    probe = ChatPage.probe()  # the reference app's test ids
    for i in range(MESSAGES):
        sender, receiver, text = chats[i % 2], chats[(i + 1) % 2], f"message {i:04d}"
        delivery_ms(sender.page, receiver.page, text, lambda: sender.send(text), probe)  # noqa: B023


def stripe_store(bench: Bench) -> Part:
    """A Stripe call's latency with 1,000 objects in localstripe's store, as localstripe ships
    (its whole store pickled to a file on every write) and as the stack runs it (in memory)."""
    calls = bench.n(100, 20)
    part = Part("stripe")
    found: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="pitstop-bench-stripe-") as workdir:
        modes = {
            "shipped": ["benchmarks.localstripe_shipped", "--pickle", str(Path(workdir) / "store.pickle")],
            "memory": ["harness.stack.localstripe_run"],
        }
        for mode, module in modes.items():
            found[mode] = _stripe_latencies([sys.executable, "-m", *module], Path(workdir), calls)
    before, after = found["shipped"], found["memory"]
    part.figures += [
        Figure(
            "stripe.write_1000_p50_ms", f"Stripe write (a customer), {STRIPE_OBJECTS} objects in store, p50",
            after["write_full_p50_ms"], "ms",
        ),
        Figure(
            "stripe.read_1000_p50_ms", f"Stripe read (a customer), {STRIPE_OBJECTS} objects in store, p50",
            after["read_full_p50_ms"], "ms",
        ),
    ]  # fmt: skip
    part.extra |= {"memory": after, "shipped": before}
    part.notes.append(
        f"stripe: localstripe alone on loopback, {calls} timed calls of each kind (one keep-alive "
        f"client), with an empty store and with {STRIPE_OBJECTS} customers in it. In memory (the "
        "stack's harness.stack.localstripe_run): write p50 "
        f"{after['write_empty_p50_ms']:.1f} ms empty / {after['write_full_p50_ms']:.1f} ms full, read "
        f"{after['read_full_p50_ms']:.1f} ms full. As localstripe ships (the whole store pickled to a file "
        "after every write, here a private file instead of the shared /tmp/localstripe.pickle): write "
        f"{before['write_empty_p50_ms']:.1f} ms empty / {before['write_full_p50_ms']:.1f} ms full "
        f"(p95 {before['write_full_p95_ms']:.1f} ms), read {before['read_full_p50_ms']:.1f} ms full."
    )
    return part


def _stripe_latencies(command: list[str], workdir: Path, calls: int) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (workdir / f"localstripe-{port}.log").open("wb") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        with httpx.Client(base_url=url, auth=STRIPE_KEY, timeout=30) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/v1/customers")
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"localstripe did not start: {' '.join(command)}") from None
                    time.sleep(0.05)

            def create(n: int) -> tuple[float, str]:
                started = time.perf_counter()
                answer = client.post("/v1/customers", data={"email": f"c{n}@pitstop.test"})
                elapsed = (time.perf_counter() - started) * 1000
                answer.raise_for_status()
                return elapsed, str(answer.json()["id"])

            empty = [create(n)[0] for n in range(calls)]
            ids = [create(n)[1] for n in range(calls, STRIPE_OBJECTS)]
            full = [create(n)[0] for n in range(STRIPE_OBJECTS, STRIPE_OBJECTS + calls)]
            reads = []
            for n in range(calls):
                started = time.perf_counter()
                client.get(f"/v1/customers/{ids[n * 7 % len(ids)]}").raise_for_status()
                reads.append((time.perf_counter() - started) * 1000)
    finally:
        processes.stop(server)
    return {
        "write_empty_p50_ms": statistics.median(empty),
        "write_full_p50_ms": statistics.median(full),
        "write_full_p95_ms": percentile(full, 95),
        "read_full_p50_ms": statistics.median(reads),
        "read_full_p95_ms": percentile(reads, 95),
    }
