"""The HTTP client webhook requests go out on: one aiohttp session per worker (its C parser, kept-alive
connections per site, HTTPS with the system's certificate checks), set up for what a webhook request needs.

- POST, answered with its status: 3xx are answers, not followed (a 3xx is a failed delivery for the runner).
- One total timeout per request (connect, TLS, send, answer), the one retry below included.
- The answer is read and dropped, at most `MAX_BODY` bytes; a longer one is cut and its connection closed.
- A kept-alive connection the receiver closed meanwhile is retried once on a fresh one. aiohttp retries only
  idempotent methods by itself, so the retry of a POST is here, and only when the connection was a reused one
  (aiohttp's connection-reuse trace says so): a fresh connection closed without an answer is a failure.
- Proxies: `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` are read once, when the worker starts (aiohttp's
  `trust_env` would read them, and ~/.netrc, on a thread at every request; netrc is not used).
- No answer raises `RequestFailed`, whose message is `<ExceptionName>: <detail>` (refused, reset, timed out,
  TLS, a bad URL...).

The session must be made inside the event loop that uses it (the runner's `__aenter__` does), and closed.
"""

import ssl
import time
import urllib.request
from types import SimpleNamespace

import aiohttp
from yarl import URL

MAX_BODY = 64 * 1024  # response bytes read; a longer answer is cut and its connection closed
IDLE_SECONDS = 30.0  # a connection idle longer is closed (receivers close theirs after 5-75 s)
_STALE = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)  # what a closed kept-alive connection raises


class RequestFailed(Exception):
    """No HTTP answer; the message is `<kind>: <detail>`, as the delivery log shows it."""


async def _on_reuse(session, context: SimpleNamespace, params) -> None:
    """aiohttp's trace: the request got a kept-alive connection from the pool."""
    if context.trace_request_ctx is not None:
        context.trace_request_ctx.reused = True


class Pool:
    """One aiohttp session: kept-alive connections per site; the caller bounds how many requests are in flight
    (`keep_per_origin` is also the connector's limit, per site and in all)."""

    def __init__(self, user_agent: str, keep_per_origin: int = 16, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: the certificate checks of HTTPS (default: the system's trusted CAs, host names checked)."""
        reuse = aiohttp.TraceConfig()
        reuse.on_connection_reuseconn.append(_on_reuse)
        connector = aiohttp.TCPConnector(limit=keep_per_origin, limit_per_host=keep_per_origin,
                                         keepalive_timeout=IDLE_SECONDS, ssl=tls if tls is not None else True)
        self._session = aiohttp.ClientSession(
            connector=connector, headers={"User-Agent": user_agent}, trace_configs=[reuse],
            skip_auto_headers=("Accept-Encoding",), auto_decompress=False, trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar())
        self._proxies = urllib.request.getproxies_environment()

    async def post(self, url: str, headers: list[tuple[str, str]], body: bytes, timeout: float) -> int:
        """POST `body` to `url`; the answer's status (any: 3xx are not followed). No answer: RequestFailed."""
        deadline = time.monotonic() + timeout
        try:
            target = URL(url)
            if target.scheme not in ("http", "https") or not target.host:
                raise RequestFailed(f"InvalidURL: not an http(s) URL: {url[:100]}")
            proxy = self._proxy(target)
            retry = True
            while True:
                connection = SimpleNamespace(reused=False)
                try:
                    return await self._exchange(target, headers, body, deadline - time.monotonic(), proxy,
                                                connection)
                except _STALE as exc:
                    if not (retry and connection.reused) or isinstance(exc, aiohttp.ClientConnectorError):
                        raise
                    retry = False  # the receiver had closed it while idle: once more on a fresh connection
        except RequestFailed:
            raise
        except TimeoutError:
            raise RequestFailed(f"Timeout: no answer within {timeout:g} s") from None
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError, ValueError) as exc:
            raise RequestFailed(f"InvalidURL: {exc}"[:200]) from None
        except (aiohttp.ClientError, OSError, ssl.SSLError) as exc:
            raise RequestFailed(_describe(exc)) from None

    async def _exchange(self, target: URL, headers, body: bytes, remaining: float, proxy: str | None,
                        connection: SimpleNamespace) -> int:
        if remaining <= 0:
            raise TimeoutError()
        async with self._session.post(target, data=body, headers=headers, allow_redirects=False, proxy=proxy,
                                      timeout=aiohttp.ClientTimeout(total=remaining),
                                      trace_request_ctx=connection) as answer:
            size = 0
            async for chunk in answer.content.iter_any():
                size += len(chunk)
                if size > MAX_BODY:
                    answer.close()  # cut: the rest of the answer and its connection are dropped
                    break
            return answer.status

    def _proxy(self, target: URL) -> str | None:
        proxy = self._proxies.get(target.scheme)
        if proxy and urllib.request.proxy_bypass_environment(target.host, self._proxies):
            return None
        return proxy

    async def aclose(self) -> None:
        await self._session.close()


def _describe(exc: BaseException) -> str:
    """`<ExceptionName>: <detail>` of what went wrong underneath aiohttp's wrapper, when it has one."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        exc = exc.certificate_error
    elif isinstance(exc, aiohttp.ClientConnectorError):
        exc = exc.os_error
    return f"{type(exc).__name__}: {exc}"[:200]
