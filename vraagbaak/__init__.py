"""Vraagbaak: herbruikbare code naast de Rasa-acties (kennisbank, NLU-componenten, launcher, tools)."""
