"""Tests of kmsim/lib (a package, so test file names may repeat those elsewhere in tests/)."""
