"""Rasa input channels with Vraagbaak's safety fixes."""
