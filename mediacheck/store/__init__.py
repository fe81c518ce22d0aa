"""The case store: the only package that opens database sessions or builds SQL."""
