"""The sync engine. It knows profiles, queues, runs and schedules, and nothing of Magento or PlentyONE."""
