"""Developer benchmarks (`make bench`, `make bench-cluster`): accuracy, safety, latency, fairness, memory."""
