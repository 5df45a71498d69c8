"""Command-line tools: benchmark, coverage and batch tests."""
