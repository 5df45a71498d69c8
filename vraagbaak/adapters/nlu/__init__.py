"""Rasa NLU components: the Dutch spaCy tokenizer and the input guard."""
