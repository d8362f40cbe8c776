"""The job worker: queues due schedules and runs jobs until told to stop."""

from civicshield.worker.loop import Worker

__all__ = ["Worker"]
