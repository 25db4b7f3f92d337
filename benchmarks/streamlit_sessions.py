"""Sessions of the served app without a browser: Streamlit's own websocket protocol (streamlit.proto).

Twenty people on twenty laptops load the server, not one machine's CPU with twenty Chromium tabs:
on this 2-core machine, 20 headless tabs spent ~37 s of CPU just opening the page and every one of
them timed out, while the server spent 1.7 s. A `Session` opens a page and moves the Thresholds
slider the way the frontend does (a BackMsg rerun of the slider's fragment with its new value), and
times the server's answer: from the message sent to the new headline's delta received.
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

HEADLINE = "At threshold"
SLIDER_LABEL = "Threshold"


class Session:
    """One session of the Thresholds page over its websocket."""

    async def open(self, url: str, page: str = "thresholds", timeout: float = 120) -> float:
        """Connect and run the page; returns the seconds to the end of its first run."""
        start = time.perf_counter()
        self.ws = await websockets.connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
                                           origin=url, max_size=None, compression=None)
        self.slider = None
        msg = BackMsg()
        msg.rerun_script.page_name = page
        await self.ws.send(msg.SerializeToString())
        await asyncio.wait_for(self._until_finished(), timeout)
        if self.slider is None:
            raise RuntimeError(f"no {SLIDER_LABEL!r} slider on {page}")
        return time.perf_counter() - start

    async def move(self, timeout: float = 30) -> float:
        """The slider one step right (left at its end); returns the seconds to the new headline."""
        step = self.slider.step if self.value[0] + self.slider.step <= self.slider.max else -self.slider.step
        self.value = [self.value[0] + step]
        msg = BackMsg()
        state = msg.rerun_script
        state.page_script_hash, state.fragment_id = self.page_hash, self.fragment
        widget = state.widget_states.widgets.add()
        widget.id = self.slider.id
        widget.double_array_value.data.extend(self.value)
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        shown = await asyncio.wait_for(self._until_finished(start), timeout)
        if shown is None:
            raise RuntimeError("the run ended without a new headline")
        return shown

    async def close(self) -> None:
        await self.ws.close()

    async def _until_finished(self, since: float | None = None) -> float | None:
        """Read messages to the end of the run; the seconds from `since` to the headline's delta."""
        shown = None
        while True:
            msg = ForwardMsg.FromString(await self.ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = msg.new_session.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                what = element.WhichOneof("type")
                if what == "exception":
                    raise RuntimeError(element.exception.message)
                if what == "slider" and element.slider.label == SLIDER_LABEL:
                    first = self.slider is None
                    self.slider, self.fragment = element.slider, msg.delta.fragment_id
                    if element.slider.set_value or first:  # the server moved it, or where it opened
                        self.value = list(element.slider.value if element.slider.set_value else element.slider.default)
                elif what == "heading" and element.heading.body.startswith(HEADLINE):
                    self.headline = element.heading.body
                    if since is not None and shown is None:
                        shown = time.perf_counter() - since
            elif kind == "script_finished":
                return shown


async def concurrent(url: str, n: int, moves: int, on_opened: Callable[[], Awaitable] | None = None) -> dict:
    """n sessions open Thresholds at once, then each moves the slider `moves` times back to back;
    every session's moves run at the same time as the others' (and as `on_opened()`'s, whose result
    is returned under "beside")."""
    sessions = [Session() for _ in range(n)]
    opened = await asyncio.gather(*[s.open(url) for s in sessions], return_exceptions=True)
    live = [s for s, o in zip(sessions, opened) if not isinstance(o, BaseException)]

    async def moving(s: Session) -> list[float]:
        return [await s.move() for _ in range(moves)]
    beside = [on_opened()] if on_opened else []
    results = await asyncio.gather(*[moving(s) for s in live], *beside, return_exceptions=True)
    for s in live:
        await s.close()
    results, beside = results[:len(live)], (results[len(live):] or [None])[0]
    errors = [o for o in opened if isinstance(o, BaseException)] + [r for r in results if isinstance(r, BaseException)]
    return {"open": [o for o in opened if not isinstance(o, BaseException)], "beside": beside,
            "moves": [t for r in results if not isinstance(r, BaseException) for t in r], "errors": errors}
