"""The answer engine: text in, a channel-agnostic Reply out."""

from ._reply import Button, Image, Reply, split_text

__all__ = ["Button", "Image", "Reply", "split_text"]
