"""The domain, for every channel and role: what the companion does, with no Telegram and no SQL text.

Adapters (bot/adapters/) translate a channel's input into calls here and
render what comes back; storage (bot/storage/) keeps it.
"""
