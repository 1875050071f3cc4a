"""Reliability tests of hyperion-tensor: bad input of every public function, fuzzing against NumPy."""
