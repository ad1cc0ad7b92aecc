"""Support code the tests and the benchmarks share (servers, samples, a clean pipeline)."""
