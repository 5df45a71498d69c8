"""Staff tools: evaluation, reports, coverage, batch questions, insights report, benchmarks."""
