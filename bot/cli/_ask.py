"""`tthc-bot ask`, `chat`, `serve`: the assistant on the command line, and the server."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ..config import SettingError, Settings
from ..conversation import Assistant, Conversations, MemorySessions, build_assistant
from ..core import Button, ConversationState
from ..kb import KnowledgeError
from ..storage import Storage, is_postgres

#: The terminal's one chat.
TERMINAL = "cli:terminal"


def register(sub: Any) -> None:
    ask = sub.add_parser("ask", help="answer one question, or one per line from standard input (batch)")
    ask.add_argument("question", nargs="*", help="the question; none: read one question per line from stdin")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (one object per line)")
    ask.add_argument("--lang", choices=("vi", "en"), help="answer in this language (default: the question's)")
    ask.set_defaults(func=_ask)

    chat = sub.add_parser("chat", help="a conversation in the terminal")
    chat.add_argument("--lang", choices=("vi", "en"), help="answer in this language (default: the question's)")
    chat.set_defaults(func=_chat)

    serve = sub.add_parser("serve", help="run the web chat, the JSON API and the channels' webhooks")
    serve.add_argument("--host", help="address to listen on (default: TTHC_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: TTHC_PORT or 8080)")
    serve.set_defaults(func=_serve)


def load_assistant() -> Assistant:
    """The assistant on the configured knowledge, with dossier lookups when the database exists
    (a PostgreSQL URL, or an SQLite file `tthc-bot demo-data` made); exits listing the problems
    if knowledge is broken."""
    settings = Settings.from_env()
    storage = Storage(settings.db) if is_postgres(settings.db) or Path(settings.db).exists() else None
    try:
        return build_assistant(settings, storage)
    except KnowledgeError as exc:
        print(f"The knowledge in {settings.knowledge_dir} has problems:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _ask(args: argparse.Namespace) -> int:
    assistant = load_assistant()

    def emit(text: str) -> None:
        answer = assistant.answer(text, ConversationState(), lang=args.lang)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(answer.reply.text)
            if answer.reply.buttons:
                print("[" + "] [".join(b.label for b in answer.reply.buttons) + "]")
            print(flush=True)

    if args.question:
        emit(" ".join(args.question))
        return 0
    for line in sys.stdin:
        emit(line.rstrip("\n"))
    return 0


def _chat(args: argparse.Namespace) -> int:
    conversations = Conversations(load_assistant(), MemorySessions())
    print("tthc-bot — gõ câu hỏi (type a question); số thứ tự để bấm nút (a number presses a button); Ctrl-D để thoát.")
    buttons: list[Button] = []
    with asyncio.Runner() as loop:
        while True:
            try:
                line = input("> ")
            except EOFError:
                print()
                return 0
            text = line.strip()
            if text.isdigit() and buttons and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1].action
            answer = loop.run(conversations.answer(TERMINAL, text, args.lang, chat=("cli", "terminal")))
            print(answer.reply.text)
            buttons = list(answer.reply.buttons)
            for i, b in enumerate(buttons, 1):
                print(f"  [{i}] {b.label}")


def _serve(args: argparse.Namespace) -> int:
    from ..server import run  # the server's modules load only for `serve`

    settings = Settings.from_env()
    try:
        run(settings, host=args.host, port=args.port)
    except SettingError as exc:  # e.g. a wrong TTHC_ZNS_TEMPLATES file: say what, without a trace
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
