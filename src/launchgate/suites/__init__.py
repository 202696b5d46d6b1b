"""Eval suites: their cases, and the six templates a suite can start from."""
