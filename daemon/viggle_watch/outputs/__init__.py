"""Outputs: atomic files, output names, the JSON sidecar, and moving inputs when done."""
