"""The companion on Telegram (python-telegram-bot 22).

Conversation state lives in the database through :class:`bot.services.conversation.Companion`;
this package only turns Telegram updates into turns and replies into messages.
"""
