"""Helpers for tests and smoke checks that ship with the package (tiny model checkpoints)."""
