"""The worker facade: the only package that imports the queue library (taskiq).

Domains enqueue jobs by name through ``Worker.enqueue``; the embedded mode runs them on
an in-memory broker inside the server process, the scaled-out mode swaps the broker.
"""

from launchgate.worker.queue import JobFailed, Worker

__all__ = ["JobFailed", "Worker"]
