"""The domain: languages, roster state, requests, routing, store, telephony port.

Imports neither Flask nor RQ (DESIGN.md's dependency rule): webhooks/ and workers/
call into this package, never the other way round.
"""
