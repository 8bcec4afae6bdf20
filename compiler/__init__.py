"""SLO Compiler: SLO specs in YAML compiled into Prometheus rules, alerts and their tests."""

__version__ = "0.1.0"
