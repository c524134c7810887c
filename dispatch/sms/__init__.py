"""Texted interpretation requests: parse a text, answer it, call the supervisor back.

`parse` is pure (text in, structure out), `replies` holds every text the service
sends, and `service` does the work against Redis and the telephony port.
"""
