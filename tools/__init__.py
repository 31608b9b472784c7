"""Project tooling run by tasks.py (never imported by lambda/ or cli/)."""
