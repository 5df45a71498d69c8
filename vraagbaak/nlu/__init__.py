"""Custom Rasa NLU components for Dutch."""
