"""Payments and refunds through the providers (sandbox, Alipay, WeChat Pay), always back through the provider
that took the money."""
