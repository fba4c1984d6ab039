"""What the running service tells its operators: Prometheus metrics and structured logs."""
