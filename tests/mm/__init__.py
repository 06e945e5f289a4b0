"""Tests of kmsim/mm (a package, so test file names may repeat those elsewhere in tests/)."""
