"""The HTTP server's pieces that every face mounts on: typed app state, limits and the answer
gate, metrics, knowledge reload, the web chat and its JSON API, the dossier and guide routes.
The application that mounts them all is `bot.server.create_app`."""
