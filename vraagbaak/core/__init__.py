"""Core: the knowledge base, replies, user-input checks and the outcome vocabulary (no Rasa)."""
