"""Tests of kmsim/cc (a package, so test file names may repeat those elsewhere in tests/)."""
