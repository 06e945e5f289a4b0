"""Tests of kmsim/linux (a package, so test file names may repeat those elsewhere in tests/)."""
