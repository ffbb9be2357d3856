"""Commands: acting on X (post, delete, like, unlike, retweet, unretweet) with a lifecycle."""

from herald.commands.base import COMMAND_TYPES, OUTCOMES, CommandsService

__all__ = ["COMMAND_TYPES", "OUTCOMES", "CommandsService"]
