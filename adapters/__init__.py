"""The ports' implementations on outside libraries: the phone network on the official twilio
SDK (twilio_telephony; the service number's own webhooks: twilio_number), the job queue on RQ
(rq_jobs, with the route inbox), connections to Redis (redis_connection). bootstrap.py chooses
them; the domain knows only the ports."""
