"""The lab modules in the top-level modules/ folder ship as the package data kmsim/examples
(pyproject.toml cannot map a folder outside kmsim/ into the package; all else is there,
the C modules of modules/ included, under [tool.setuptools.package-data])."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["kmsim", "kmsim.*"]) + ["kmsim.examples"],
      package_dir={"kmsim.examples": "modules"})
