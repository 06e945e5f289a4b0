"""Tests of kmsim/shell (a package, so test file names may repeat those elsewhere in tests/)."""
