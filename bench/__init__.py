"""Benchmarks of SLO Compiler: compile time against a serialisation floor, and the evaluation cost
of the generated rules in a real Prometheus against Sloth-style rules. Run with `make bench`."""
