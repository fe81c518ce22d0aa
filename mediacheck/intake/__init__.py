"""Taking files in: collecting inputs, describing each file, recording it in the store."""
