"""Page-view logging on a background thread, so requests never wait for the database."""
import queue
import threading
import time

_events = queue.Queue()
_worker = None
sent = []


def log_event(kind, path):
    _events.put((time.time(), kind, path))


def _drain():
    while True:
        event = _events.get()
        if event is None:
            break
        sent.append(event)


def start():
    global _worker
    if _worker is None:
        _worker = threading.Thread(target=_drain, name="analytics", daemon=True)
        _worker.start()


def stop():
    if _worker is not None:
        _events.put(None)
        _worker.join(timeout=1)
