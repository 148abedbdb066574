"""tthc-bot: answers investors' questions on a management board's administrative procedures."""

__version__ = "0.1.0"
