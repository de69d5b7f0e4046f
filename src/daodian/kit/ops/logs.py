"""Logs as JSON lines (python-json-logger), each with the request id of the request that wrote it.

One line per record on standard error, ready for a log shipper: time (UTC, ISO 8601), level, logger, message,
request_id and whatever `extra=` a call adds. uvicorn's own loggers go through the same handler.
"""

import logging
import logging.config

from pythonjsonlogger.json import JsonFormatter

from daodian.kit.ops.request_ids import current_request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


def logging_config(level: str = "INFO") -> dict:
    """A dictConfig for the app and uvicorn (pass it to uvicorn as `log_config`)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {
            "()": JsonFormatter,
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # the record's moment, UTC, ISO 8601
        }},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"],
                                "stream": "ext://sys.stderr"}},
        "loggers": {
            "daodian": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }


def configure(level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(level))
