"""gunicorn entry point: `gunicorn wsgi:app` (see Procfile)."""

from webhooks import create_app

app = create_app()
