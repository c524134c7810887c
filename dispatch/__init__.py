"""The domain: the services a request passes through, by phase (intake, offers, offer_outcomes,
vendor_bridge, call_ends, rejoin, rejoin_ends, sweeper, reconcile, sergeant, sms/), request
records and their state machine, the roster's types, languages; the ports it needs from
outside (telephony, jobs) and the stores on Redis (the only modules that name its keys, keys.py).

It imports nothing of the service's own outside itself, and neither Flask, RQ nor the twilio
SDK (DESIGN.md's dependency rule, tests/test_architecture.py): bootstrap.py builds it with the
adapters, and webhooks/ and workers/ call into it.
"""
