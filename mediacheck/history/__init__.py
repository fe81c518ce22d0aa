"""The hash-chained event log of every case, and the integrity check over the store."""
