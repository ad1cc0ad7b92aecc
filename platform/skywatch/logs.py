"""Secrets never reach a log line: a filter on every handler, whichever logger a record came from.

A filter on a logger sees only records logged to that very logger, not those its children pass
up; a filter on a handler sees every record it writes. So the redaction sits on the handlers: the
ones LOGGING installs (settings), uvicorn's own and Celery's (`redact_every_handler`).
"""

from __future__ import annotations

import logging

# Attributes every LogRecord has; any other one is an `extra` a formatter may print.
STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact_text(text: str) -> str:
    """The text without provider keys, Django's own secrets, credentials or share tokens
    (what Sentry's scrubber removes, skywatch.sentry)."""
    from skywatch.sentry import scrub_text, secret_values
    from weather_provider.secrets import redact

    text = redact(text)
    try:
        secrets = secret_values()
    except Exception:  # before Django is configured there are no settings to read secrets from
        secrets = []
    return scrub_text(text, secrets=secrets)


def _redact_value(value):
    return redact_text(value) if isinstance(value, str) else value


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message, arguments, traceback and extras without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._redact(record)
        except Exception:  # a malformed record is the logging module's problem, not ours
            return True
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        # Arguments one by one, so formatters that read them (uvicorn's access log) still can.
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            # A secret inside an argument that is not a string (an exception, say).
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact_text(value))


def _has_redaction(handler: logging.Handler) -> bool:
    return any(isinstance(f, RedactSecretsFilter) for f in handler.filters)


def redact_every_handler(**_signal_kwargs) -> None:
    """Put the filter on every handler of every logger there is (uvicorn's and Celery's too);
    also a receiver of Celery's logging signals, hence the keyword arguments it ignores."""
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not _has_redaction(handler):
                handler.addFilter(RedactSecretsFilter())


def json_formatter(**options) -> logging.Formatter:
    """python-json-logger's formatter (prod), which formats a traceback itself instead of using
    the record's redacted `exc_text`: its traceback is redacted here as well."""
    from pythonjsonlogger.json import JsonFormatter

    class RedactingJsonFormatter(JsonFormatter):
        def formatException(self, ei):
            return redact_text(super().formatException(ei))

    return RedactingJsonFormatter(**options)
