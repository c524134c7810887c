"""Test helpers: a real embedded Redis, signed webhook requests, the running stack."""
