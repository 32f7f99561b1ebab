"""Tests of the REST service (a package, so its conftest has a unique module name)."""
