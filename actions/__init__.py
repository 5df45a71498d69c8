"""Rasa custom actions for Vraagbaak (thin: the logic lives in the vraagbaak package)."""
