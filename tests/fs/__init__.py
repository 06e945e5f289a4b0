"""Tests of kmsim/fs (a package, so test file names may repeat those elsewhere in tests/)."""
