"""The chat-latency probe: from a send in one page to the message appearing in the other, browser to browser.

``ChatProbe`` says where to look, each as a ``Find`` (a selector, or a function from a page to a Locator):
the receiver's message list, and the sender's send control and message box. ``delivery_ms`` measures one
message with it, both ends on the browser's clock.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import ElementHandle, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .finding import Find, describe, locate

# Records when a message is sent, on the browser's clock: a click on the send control, or Enter in the
# message box (anywhere in the page when the probe names no box). Listeners are installed once per
# document; each measure points them at this call's elements and clears the last send.
_ARM_SENDER = """([send, box]) => {
  window.__pitstopSent = undefined;
  window.__pitstopSend = {send, box};
  if (window.__pitstopSenderArmed) return;
  window.__pitstopSenderArmed = true;
  const sent = () => { if (window.__pitstopSent === undefined) window.__pitstopSent = Date.now(); };
  document.addEventListener('click', e => {
    const send = window.__pitstopSend.send;
    if (send && send.contains(e.target)) sent();
  }, {capture: true});
  document.addEventListener('keydown', e => {
    const box = window.__pitstopSend.box;
    if (e.key === 'Enter' && !e.shiftKey && (!box || box.contains(e.target))) sent();
  }, {capture: true});
}"""
# Records when the message list first shows the text, on the browser's clock. False: it shows it already.
# The whole document is observed: an app that renders its list anew replaces the element, and the text
# is then looked for in the page (the receiver never typed it).
_ARM_RECEIVER = """([list, text]) => {
  if (list.textContent.includes(text)) return false;
  window.__pitstopSeen = undefined;
  const shows = () => (list.isConnected ? list : document.body).textContent.includes(text);
  const observer = new MutationObserver(() => {
    if (shows()) {
      window.__pitstopSeen = Date.now();
      observer.disconnect();
    }
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
  return true;
}"""
DELIVERY_TIMEOUT_MS = 15_000


@dataclass(frozen=True, kw_only=True)
class ChatProbe:
    """Where the chat-latency probe looks in a chat page.

    ``messages``: the list the receiver's messages appear in (required: the probe watches it).
    ``send``: the control a click on which sends; ``input``: the message box Enter sends from (unset:
    Enter anywhere in the page). A send is either; each is a selector or a function from a page to a
    Locator (``lambda page: page.get_by_role("button", name="Send")``).
    """

    messages: Find
    send: Find | None = None
    input: Find | None = None

    @classmethod
    def of(cls, chat: Any, attribute: str = "") -> ChatProbe:
        """Deprecated (kept for 0.1.x): ``ChatPage.probe()``, which reads the configured attribute."""
        warnings.warn(
            "ChatProbe.of(ChatPage, attribute) is now ChatPage.probe(); it goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        probe: ChatProbe = chat.probe()
        return probe


def delivery_ms(sender: Page, receiver: Page, text: str, send: Callable[[], None], probe: ChatProbe) -> float:
    """Run ``send`` (which sends ``text``, new to this chat) and wait until ``receiver`` shows it; the ms.

    Measured browser to browser: from the send in one page (a click on ``probe.send``, or Enter) to the
    message appearing in the other's ``probe.messages``, both on the browser's clock.
    """
    listed = _element(receiver, probe.messages, "message list", "receiver")
    if not receiver.evaluate(_ARM_RECEIVER, [listed, text]):
        raise AssertionError(
            f"pitstop's chat probe: the receiver's message list already shows {text!r}: "
            "measure a text new to this chat"
        )
    sender.evaluate(
        _ARM_SENDER,
        [_optional(sender, probe.send, "send control"), _optional(sender, probe.input, "message box")],
    )
    send()
    try:
        seen = receiver.wait_for_function("() => window.__pitstopSeen", timeout=DELIVERY_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        raise AssertionError(
            f"pitstop's chat probe: {text!r} never appeared in the receiver's page within "
            f"{DELIVERY_TIMEOUT_MS:g} ms of the send"
        ) from None
    sent = sender.evaluate("() => window.__pitstopSent")
    if sent is None:
        raise AssertionError(
            f"pitstop's chat probe saw no send: {_sends(probe)} on the sender's page; "
            "give Flows.chat_probe the app's send control or message box"
        )
    return float(seen.json_value()) - float(sent)


def _element(page: Page, find: Find, what: str, whose: str) -> ElementHandle:
    try:
        return locate(page, find).element_handle()
    except PlaywrightError as exc:  # none within the timeout, or more than one
        why = "more than one" if "strict mode violation" in str(exc) else "no"
        raise AssertionError(
            f"pitstop's chat probe: {why} {what} ({describe(find)}) on the {whose}'s page; "
            "give Flows.chat_probe the app's"
        ) from None


def _optional(page: Page, find: Find | None, what: str) -> ElementHandle | None:
    return None if find is None else _element(page, find, what, "sender")


def _sends(probe: ChatProbe) -> str:
    click = f"nothing matching {describe(probe.send)} was clicked and " if probe.send is not None else ""
    box = f" in {describe(probe.input)}" if probe.input is not None else ""
    return f"{click}Enter was not pressed{box}"
