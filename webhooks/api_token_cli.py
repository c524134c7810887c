"""`flask --app wsgi api-token create|list|revoke NAME`: API tokens for tools that read the dashboard.

Run where the service's settings are (the same REDIS_URL): the token is printed once, by
`create`, and never again; only its SHA-256 is stored (dispatch.api_tokens).
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from dispatch import api_tokens
from webhooks.deps import ctx

api_token_cli = AppGroup("api-token", help="Read-only API tokens for tools (dashboard JSON API and stream).")


@api_token_cli.command("create")
@click.argument("name")
def create(name: str) -> None:
    """Make a token called NAME and print it (once: keep it in the tool's secret store)."""
    try:
        token = api_tokens.create(ctx().redis, name)
    except api_tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)
    click.echo(
        f"API token {name!r} created. It is shown only now. Send it as 'Authorization: Bearer <token>' "
        "to /dashboard/api/* and /dashboard/stream; it can read, not act.",
        err=True,
    )


@api_token_cli.command("list")
def list_tokens() -> None:
    """Every token's name and when it was made (the tokens themselves are not kept)."""
    tokens = api_tokens.listed(ctx().redis)
    if not tokens:
        click.echo("no API tokens", err=True)
    for info in tokens:
        click.echo(f"{info.name}\t{info.created}")


@api_token_cli.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the token called NAME: refused from the next request (open streams end within seconds)."""
    try:
        api_tokens.revoke(ctx().redis, name)
    except api_tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"API token {name!r} revoked.", err=True)
