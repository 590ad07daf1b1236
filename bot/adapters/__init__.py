"""Channels: each translates its input into calls on the services and renders their answers.

An adapter imports neither SQLAlchemy nor bot.storage: everything it knows
about a person comes from bot.services.
"""
