"""Reliability of the kernels through their entry points: the same errors as the reference, NaN parity, extreme values."""
