"""Runs: one output scored against every active case of a suite, cleared or aborted."""
