"""Reliability tests of hyperion-autograd: bad input, fuzzing against finite differences, faults, memory, the CLI."""
