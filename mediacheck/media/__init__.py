"""One file to facts: sniffing, safe decoding, hashes, metadata, video.

Never touches the store.
"""
