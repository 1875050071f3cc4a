"""Reliability: bad input, malformed scenarios, CLI errors and numerical faults of hyperion.physics."""
