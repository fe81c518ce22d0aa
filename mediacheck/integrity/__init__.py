"""Is the evidence intact? Originals re-hashed, history chains re-walked, rows checked
against the events that recorded them."""
