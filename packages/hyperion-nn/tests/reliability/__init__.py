"""Reliability tests of hyperion-nn: bad input, crashes mid-training, corrupt files, numerical faults, memory."""
