"""``omnisdk tokens``: the stored channel tokens, kept encrypted at rest."""

from __future__ import annotations

import typer

from omnisdk.cli.output import stdout_console
from omnisdk.cli.state import get_state

__all__ = ["tokens_app"]

tokens_app = typer.Typer(
    name="tokens",
    help="Stored channel tokens (encrypted at rest with OMNISDK_TOKEN_KEYS).",
    no_args_is_help=True,
)


@tokens_app.command("reencrypt")
def reencrypt(ctx: typer.Context) -> None:
    """Seal every stored token with the first key of OMNISDK_TOKEN_KEYS.

    Rewrites the rows stored before encryption was switched on and the rows sealed with an
    older key; after it, the older keys can be dropped from OMNISDK_TOKEN_KEYS. Safe to run
    while the engine runs, and again: a row already sealed with the first key is left alone.
    """
    from omnisdk.store import Store

    state = get_state(ctx)
    store = Store(state.config().store.url)
    try:
        store.migrate()
        rewritten = store.reencrypt_tokens()
    finally:
        store.close()
    noun = "token" if rewritten == 1 else "tokens"
    stdout_console().print(
        f"Re-encrypted {rewritten} {noun} with the first key of OMNISDK_TOKEN_KEYS; "
        "older keys can now be removed from it."
        if rewritten
        else "Every stored token is already sealed with the first key of OMNISDK_TOKEN_KEYS."
    )
