"""Benchmarks and calibration simulations (not part of the installed package)."""
