"""The hash-chained event log of every case: a leaf that the store and every service use."""
