"""The staff console: a small web app in which outreach staff test phrasings, review misses and improve the bot.

Its own Sanic app on its own port (127.0.0.1:8090 by default), separate from Rasa's. It talks to the running bot
only through Rasa's token-protected HTTP API (`/model/parse`, `/status`, `PUT /model`), so testing a question
never starts a conversation and never counts in the insights. Start it with `make run` (together with the
bot) or `make console`; make an account for each member of staff first with `make console-user`.
"""
