"""Tests of hyperion-tensor (a package, so that test modules can share ``strategies``)."""
