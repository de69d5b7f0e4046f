"""What operators watch: Prometheus metrics, JSON logs with a request id, the readiness checks."""
