"""BYOK: customers' provider keys. ``vault`` is the only cipher user; ``resolver`` (worker
side only) is the only place a key is opened."""
