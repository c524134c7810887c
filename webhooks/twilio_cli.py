"""`flask --app wsgi twilio check|configure`: the service number's webhooks, set from the settings.

Run where the service's settings are (PUBLIC_BASE_URL, STATUS_CALLBACK_BASE_URL, the Twilio
credentials, region, edge or API base URL, the roster's service number). `check` lists every
webhook that does not point at this service and exits 1 if there is one (a deploy step, a
cron job); `configure` shows each change (old → new) and makes them once confirmed, or at
once with `--yes`. Both talk to Twilio's REST API through the twilio SDK, as the service does.
"""

from __future__ import annotations

import json

import click
import requests
from flask.cli import AppGroup
from twilio.base.exceptions import TwilioException, TwilioRestException

from adapters import twilio_number
from bootstrap import twilio_telephony
from webhooks.deps import ctx, settings

twilio_cli = AppGroup("twilio", help="The service number's webhooks on Twilio, set from this service's settings.")


def _number_and_changes():
    c = ctx()
    client = twilio_telephony(settings()).client
    phone = c.roster.service_number
    try:
        number = twilio_number.find(client, phone)
    except twilio_number.NumberNotFound as exc:
        raise click.ClickException(str(exc)) from None
    return number, twilio_number.changes(number, c.urls)


def _talking_to_twilio(action):
    """Twilio's refusals and an unreachable API as one clear line, not a traceback."""
    try:
        return action()
    except TwilioRestException as exc:
        raise click.ClickException(f"Twilio refused: HTTP {exc.status}, error {exc.code}: {exc.msg}") from None
    except TwilioException as exc:  # a list's page refused: the SDK hands over the response itself
        raise click.ClickException(f"Twilio refused: {_refusal(exc)}") from None
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach Twilio's API: {type(exc).__name__}") from None


def _refusal(exc: TwilioException) -> str:
    response = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    try:
        body = json.loads(getattr(response, "text", "") or "{}")
    except ValueError:
        body = {}
    if status is None:
        return str(exc.args[0] if exc.args else exc)
    return f"HTTP {status}, error {body.get('code', '?')}: {body.get('message', '')}".rstrip(": ")


@twilio_cli.command("check")
def check() -> None:
    """Exit 1, listing them, if any of the number's webhooks do not point at this service."""
    number, to_make = _talking_to_twilio(_number_and_changes)
    if not to_make:
        click.echo(f"{number.phone_number}: every webhook points at this service.")
        return
    click.echo(
        f"{number.phone_number} ({number.sid}): {len(to_make)} webhook(s) do not point at this service (now → needed):"
    )
    for change in to_make:
        click.echo("  " + change.describe())
    click.echo("Run `flask --app wsgi twilio configure` to set them.", err=True)
    raise SystemExit(1)


@twilio_cli.command("configure")
@click.option("--yes", is_flag=True, help="Make the changes without asking.")
def configure(yes: bool) -> None:
    """Point the number's voice, fallback, status callback and SMS webhooks at this service (POST)."""
    number, to_make = _talking_to_twilio(_number_and_changes)
    if not to_make:
        click.echo(f"{number.phone_number}: every webhook already points at this service; nothing to change.")
        return
    click.echo(f"{number.phone_number} ({number.sid}) on Twilio, old → new:")
    for change in to_make:
        click.echo("  " + change.describe())
    if not yes:
        click.confirm(f"Make these {len(to_make)} change(s)?", default=False, abort=True)
    updated = _talking_to_twilio(lambda: twilio_number.apply(number, to_make))
    left = twilio_number.changes(updated, ctx().urls)
    if left:
        raise click.ClickException("Twilio did not take: " + "; ".join(c.webhook.label for c in left))
    click.echo(f"{number.phone_number}: {len(to_make)} setting(s) changed; every webhook points at this service.")
