"""What uvicorn is told by `daodian serve`, in one process or in forked workers (cli.prefork): the same both ways."""

UVICORN_OPTIONS = {
    "proxy_headers": True,  # behind the deployment's proxy: the client's address from X-Forwarded-For
    # A WebSocket message at most this long (uvicorn's default is 16 MiB): the sockets carry small JSON frames
    # (delivery.position_socket), and a larger one is refused before it is read into memory.
    "ws_max_size": 64 * 1024,
}
