import queue
import threading

events = queue.Queue()
worker = threading.Thread(target=lambda: None)
