"""The marketer's keyword program: loaded from YAML, validated, compiled once into a Program."""

from bot.program.model import Keyword, Program, ProgramInfo

__all__ = ["Keyword", "Program", "ProgramInfo"]
