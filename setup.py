"""The lab modules in the top-level modules/ folder ship as the package kmsim.examples
(pyproject.toml cannot map a folder outside kmsim/ into the package; all else is there)."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["kmsim", "kmsim.*"]) + ["kmsim.examples"],
      package_dir={"kmsim.examples": "modules"},
      package_data={"kmsim.examples": ["*.py", "*.c", "*.h"]})
