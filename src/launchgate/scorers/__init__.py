"""Scorers: how one output is judged against one case (see ``builtin`` for the pure core)."""
