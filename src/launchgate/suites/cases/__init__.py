"""Eval cases: what one output is scored against, in ``position`` order."""
