"""The aiohttp server that every face (web chat, API, Telegram, Zalo) mounts on."""
