"""The chat-latency probe: from a send in one page to the message appearing in the other, browser to browser.

``ChatProbe`` says where to look, each as a ``Find`` (a selector, or a function from a page to a Locator):
the receiver's message list, and the sender's send control and message box. ``delivery_ms`` measures one
message with it, both ends on the browser's clock.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from .finding import Find, describe, locate

# Each arm is one call that finds its element and arms it (``Locator.evaluate_all``: no wait, no handle
# kept), and the wait is one call that answers the time seen: fewer round trips, and no polling. Each arm
# answers how many elements it found when that is not one.

# Points the sender's listeners at this call's send control or message box (``role``); the send control's
# arm (or the page root's, when the probe names none) clears the last send. Listeners are installed once
# per document and record when a message is sent, on the browser's clock: a click on the send control,
# or Enter in the message box (anywhere in the page when the probe names no box).
_ARM_SENDER = """(found, role) => {
  if (found.length !== 1) return found.length;
  if (role !== 'box') window.__pitstopSend = {send: role === 'send' ? found[0] : null, box: null};
  if (role === 'box') window.__pitstopSend.box = found[0];
  window.__pitstopSent = undefined;
  if (window.__pitstopSenderArmed) return true;
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
  return true;
}"""
# Makes ``window.__pitstopSeen`` a promise of when the message list first shows the text, on the
# browser's clock; false: it shows it already. The whole document is observed: an app that renders its list
# anew replaces the element, and the text is then looked for in the page (the receiver never typed it).
_ARM_RECEIVER = """(found, text) => {
  if (found.length !== 1) return found.length;
  const list = found[0];
  if (list.textContent.includes(text)) return false;
  const shows = () => (list.isConnected ? list : document.body).textContent.includes(text);
  window.__pitstopSeen = new Promise(resolve => {
    const observer = new MutationObserver(() => {
      if (shows()) {
        observer.disconnect();
        resolve(Date.now());
      }
    });
    observer.observe(document.body, {childList: true, subtree: true, characterData: true});
  });
  return true;
}"""
# When the receiver's list showed the text, null after ``timeout`` ms, or "gone": this is not the armed
# document any more (the page navigated or reloaded).
_SEEN = """timeout => window.__pitstopSeen === undefined ? 'gone' : Promise.race([
  window.__pitstopSeen, new Promise(resolve => setTimeout(() => resolve(null), timeout))])"""
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
    if not _arm(receiver, probe.messages, _ARM_RECEIVER, text, "message list", "receiver"):
        raise AssertionError(
            f"pitstop's chat probe: the receiver's message list already shows {text!r}: "
            "measure a text new to this chat"
        )
    _arm(
        sender, probe.send or ":root", _ARM_SENDER, "send" if probe.send else "page", "send control", "sender"
    )
    if probe.input is not None:
        _arm(sender, probe.input, _ARM_SENDER, "box", "message box", "sender")
    send()
    try:
        seen = receiver.evaluate(_SEEN, DELIVERY_TIMEOUT_MS)
    except PlaywrightError:  # the document went away while the probe waited
        seen = "gone"
    if seen == "gone":
        raise AssertionError(
            f"pitstop's chat probe: the receiver's page navigated, reloaded or closed before {text!r} "
            "appeared; the probe measures a chat page that stays open"
        )
    if seen is None:
        raise AssertionError(
            f"pitstop's chat probe: {text!r} never appeared in the receiver's page within "
            f"{DELIVERY_TIMEOUT_MS:g} ms of the send"
        )
    sent = sender.evaluate("() => window.__pitstopSent")
    if sent is None:
        raise AssertionError(
            f"pitstop's chat probe saw no send: {_sends(probe)} on the sender's page; "
            "give Flows.chat_probe the app's send control or message box"
        )
    return float(seen) - float(sent)


def _arm(page: Page, find: Find, script: str, arg: str, what: str, whose: str) -> bool:
    """Run an arm ``script`` on the one element ``find`` finds (waiting for it, as an action would, when
    there is none yet); what the script answers."""
    located = locate(page, find)
    armed = located.evaluate_all(script, arg)  # how many it found, unless one
    if not isinstance(armed, bool) and armed == 0:
        with contextlib.suppress(PlaywrightError):  # none within the timeout, or more than one: said below
            located.wait_for(state="attached")
        armed = located.evaluate_all(script, arg)
    if not isinstance(armed, bool):
        raise AssertionError(
            f"pitstop's chat probe: {'more than one' if armed > 1 else 'no'} {what} ({describe(find)}) "
            f"on the {whose}'s page; give Flows.chat_probe the app's"
        )
    return armed


def _sends(probe: ChatProbe) -> str:
    click = f"nothing matching {describe(probe.send)} was clicked and " if probe.send is not None else ""
    box = f" in {describe(probe.input)}" if probe.input is not None else ""
    return f"{click}Enter was not pressed{box}"
