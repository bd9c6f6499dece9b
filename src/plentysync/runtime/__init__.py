"""The long-running side: the worker (schedules, queue drains, pollers), the message-queue
publisher and consumer, notifications."""
