"""Normalize Sentry events with Relay's store normalizer.

Reads one JSON event per line on stdin. For each, prints one JSON line on stdout:
``{"ok": <normalized event>}`` or ``{"error": "<exception text>"}``.

The event bytes are handed to Relay exactly as received (``raw_event``), so what is checked is
what the SDK serialized, not a Python re-encoding of it.

Run by ``sentry_tests::relay`` with a Python that has ``sentry-relay`` installed.
"""

import json
import sys

from sentry_relay.processing import StoreNormalizer


def main():
    normalizer = StoreNormalizer()
    out = sys.stdout
    for line in sys.stdin.buffer:
        line = line.strip()
        if not line:
            continue
        try:
            result = {"ok": normalizer.normalize_event(raw_event=line)}
        except Exception as exc:  # report every failure per event, keep going
            # Relay appends a native stack trace to its errors; keep only the message.
            text = str(exc).split("\n\nstacktrace:")[0]
            result = {"error": "%s: %s" % (type(exc).__name__, text)}
        out.write(json.dumps(result))
        out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
