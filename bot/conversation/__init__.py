"""The conversation core: every flow registered in one `Assistant`, and the one `Conversations`
service that the web API, the terminal and every channel answer through. Channels only
translate between their platform and it."""

from ._assistant import Assistant
from ._build import build_assistant
from ._sessions import Conversations, Gate, MemorySessions, SessionStore

__all__ = ["Assistant", "Conversations", "Gate", "MemorySessions", "SessionStore", "build_assistant"]
