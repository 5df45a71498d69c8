"""Offline evaluation: what the bot would do with held-out phrasings, and the checks on the evaluation sets."""
