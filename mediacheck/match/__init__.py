"""Recognising re-shared media: fingerprints, the in-memory index and the archive search."""
