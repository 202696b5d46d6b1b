"""LaunchGate API keys: ``lg_live_``/``lg_test_`` + 32 base62, shown once, stored hashed."""
