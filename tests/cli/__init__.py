"""Tests of the operator commands `cmk-rule scan` and `cmk-rule evidence` against moto's server."""
