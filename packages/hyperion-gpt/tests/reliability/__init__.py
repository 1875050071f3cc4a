"""Reliability: bad input, crashes, corrupt files, numerical faults and memory of hyperion.gpt."""
