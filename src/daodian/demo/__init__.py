"""The demo city of Hangzhou: generated merchants, stores, services, products and people."""
