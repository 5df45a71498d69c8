"""Helpers that several test modules share (the fixtures stay in the conftest files)."""
