"""Rasa adapters: NLU components, channels, tracker stores, the action-failure reply; they use only core."""
