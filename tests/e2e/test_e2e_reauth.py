"""A revoked token stops its account, loudly, and the other accounts go on (issue #10 item 6).

The sandbox's control API revokes the merchant's grant (``POST /_sandbox/revoke``): Shopify
then answers 401 to every token (the permanent one too) and Shopee refuses the access token
and the refresh. Before, a Shopify account answered 401 on every call while ``status`` showed
it ``active`` for ever; now ``reauth_after`` (default 3) refusals in a row mark it
``needs_reauth`` and fire ``omnisdk_channel_needs_reauthorisation`` once.
"""

from __future__ import annotations

import importlib

import httpx
import pytest
from _engine_testkit import SKU_RED_M, Account, Harness, MakeHarness, engine_config, seed

from omnisdk.auth import Token
from omnisdk.errors import AuthError, PlatformUnavailable
from omnisdk.store import AccountStatus
from omnisdk.sync import Engine

GONE = "hanoi"
OTHER = "saigon"


def platform_account(channel: str, **settings: object) -> Account:
    """The account whose grant is revoked, on the ``channel`` plugin's sandbox."""
    prefix = {"shopify": "Shopify", "shopee": "Shopee", "lazada": "Lazada"}[channel]
    sandboxes = pytest.importorskip(f"omnisdk_{channel}.sandbox.app")
    channels = importlib.import_module(f"omnisdk_{channel}.channel")
    return Account(
        GONE,
        channel_class=getattr(channels, f"{prefix}Channel"),
        sandbox=getattr(sandboxes, f"{prefix}Sandbox")(seed=7),
        settings=dict(settings),
    )


def status(harness: Harness, account: str) -> AccountStatus:
    row = harness.store.get_account(account)
    assert row is not None
    return row.status


async def buyer_order(harness: Harness, n: int) -> None:
    await harness.controls[OTHER].place_order(
        [(SKU_RED_M, 1)], customer={"name": f"Trần Văn Bình {n}", "phone": f"+8490{n:07d}"}
    )


@pytest.mark.parametrize(("channel", "refusals"), [("shopify", 3), ("shopee", 1), ("lazada", 1)])
async def test_a_revoked_token_marks_the_account_needs_reauth_and_the_others_go_on(
    make_harness: MakeHarness, channel: str, refusals: int
) -> None:
    harness = await make_harness(platform_account(channel), Account(OTHER))
    engine = harness.engine
    await seed(harness, SKU_RED_M)
    await engine.set_stock(SKU_RED_M, 20)
    await engine.push()
    await harness.controls[GONE].revoke_access()

    # Shopify: every call is a 401 until the third in a row says the grant is gone. Shopee
    # says so at once (its refresh is refused with shop_no_linked).
    for attempt in range(1, refusals):
        with pytest.raises(AuthError):
            await engine.poll_orders(GONE)
        assert status(harness, GONE) is AccountStatus.ACTIVE, attempt
    stopped = await engine.poll_orders(GONE)
    assert stopped.stopped
    assert status(harness, GONE) is AccountStatus.NEEDS_REAUTH
    [call] = harness.recorder.of("needs_reauthorisation")
    assert (call["channel"], call["account"]) == (channel, GONE)
    assert (
        "authoris" in call["reason"].lower()
        or "shop_no_linked" in call["reason"]
        or ("IllegalRefreshToken" in call["reason"])
    )

    # The stopped account makes no more calls; the other one keeps taking orders and pushes.
    sandbox = harness.sandboxes[GONE]
    calls = len(sandbox.requests)
    for n in range(3):
        await buyer_order(harness, n)
        cycle = await engine.sync_once(reconcile=False)
        assert OTHER not in cycle.errors
    assert len(sandbox.requests) == calls, "a needs_reauth account is left alone"
    assert len(list(harness.store.iter_orders(account=OTHER))) == 3
    assert await harness.listed(OTHER, SKU_RED_M) == 17
    assert len(harness.recorder.of("needs_reauthorisation")) == 1, "the hook fires once"
    report = await engine.status()
    shown = {account.account: account for account in report.accounts}
    assert shown[GONE].status == AccountStatus.NEEDS_REAUTH.value


async def test_the_threshold_is_a_setting_and_reauthorising_resumes(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness(platform_account("shopify", reauth_after=1), Account(OTHER))
    engine = harness.engine
    await harness.controls[GONE].revoke_access()
    assert (await engine.poll_orders(GONE)).stopped  # the first refusal is enough
    assert status(harness, GONE) is AccountStatus.NEEDS_REAUTH

    with pytest.raises(AuthError):  # still uninstalled: the check fails, nothing changes
        await engine.reauthorise(GONE)
    assert status(harness, GONE) is AccountStatus.NEEDS_REAUTH

    harness.sandboxes[GONE].reset()  # the merchant installs the app again
    info = await engine.reauthorise(GONE)
    assert info.name
    assert status(harness, GONE) is AccountStatus.ACTIVE
    assert not (await engine.poll_orders(GONE)).stopped


async def test_a_running_engine_takes_the_token_another_process_authorised(
    make_harness: MakeHarness,
) -> None:
    """``omnisdk channels reauthorise`` runs in its own process: the running engine, which
    holds the refused token in memory, must take the new one from the store once it sees the
    account ``active`` again, not be refused (and stopped) once more."""
    harness = await make_harness(platform_account("shopify", reauth_after=1), Account(OTHER))
    engine = harness.engine
    sandbox = harness.sandboxes[GONE]
    assert not (await engine.poll_orders(GONE)).stopped  # the token is in memory now
    await harness.controls[GONE].revoke_access()
    assert (await engine.poll_orders(GONE)).stopped

    with sandbox.lock:  # installed again, with a new permanent token
        sandbox.installed = True
        sandbox.access_token = "shpat_cai_dat_lai_0001"
    harness.store.write_token(  # what the other process's reauthorise stores
        "shopify", GONE, Token.lasting("shpat_cai_dat_lai_0001", seconds=None)
    )
    assert status(harness, GONE) is AccountStatus.ACTIVE
    assert not (await engine.poll_orders(GONE)).stopped
    assert status(harness, GONE) is AccountStatus.ACTIVE


@pytest.mark.parametrize("channel", ["shopee", "lazada"])
async def test_an_expired_token_whose_refresh_is_dropped_does_not_stop_the_account(
    make_harness: MakeHarness, channel: str
) -> None:
    """Found by the chaos suite: every access token ended, the one refresh (sent once) lost
    its connection, and each later call went out with the token already refused; three such
    refusals in a row stopped the account as ``needs_reauth`` though its grant was fine, and
    its orders were never polled again (so the other channels oversold them). The refused
    token is no longer handed out: the refresh is tried again first."""
    harness = await make_harness(platform_account(channel, reauth_after=3), Account(OTHER))
    engine = harness.engine
    control = harness.controls[GONE]
    assert not (await engine.poll_orders(GONE)).stopped
    await control.expire_tokens()
    refresh_path = {
        "shopee": "/api/v2/auth/access_token/get",
        "lazada": "/rest/auth/token/refresh",
    }[channel]
    await control.set_faults(only_paths=[refresh_path], drop_first=3)
    for attempt in range(3):  # the refresh is dropped each time: a failed poll, not a refusal
        with pytest.raises(PlatformUnavailable):
            await engine.poll_orders(GONE)
        assert status(harness, GONE) is AccountStatus.ACTIVE, attempt
    stats = await engine.poll_orders(GONE)  # the fourth refresh goes through
    assert not stats.stopped
    assert status(harness, GONE) is AccountStatus.ACTIVE
    assert harness.store.auth_refusals(GONE) == 0
    assert not harness.recorder.of("needs_reauthorisation")


async def test_refusals_of_separate_runs_add_up_to_needs_reauth(
    make_harness: MakeHarness,
) -> None:
    """A cron ``omnisdk sync --once`` is a new process, and a new HTTP client, each time: a
    count kept in the client never got past 1, so ``reauth_after`` was never reached. The
    count is kept in the store now (migration 0008)."""
    harness = await make_harness(platform_account("shopify", reauth_after=3), Account(OTHER))
    await harness.controls[GONE].revoke_access()
    config, plugins = harness.engine.config, harness.engine.plugins
    transports = {
        name: httpx.ASGITransport(app=sandbox.app) for name, sandbox in harness.sandboxes.items()
    }
    for run in (1, 2, 3):
        async with Engine(
            config, plugins=plugins, store=harness.store, transports=transports
        ) as cron:
            if run < 3:
                with pytest.raises(AuthError):
                    await cron.poll_orders(GONE)
                assert status(harness, GONE) is AccountStatus.ACTIVE, run
                assert harness.store.auth_refusals(GONE) == run
            else:
                assert (await cron.poll_orders(GONE)).stopped
    assert status(harness, GONE) is AccountStatus.NEEDS_REAUTH
    assert len(harness.recorder.of("needs_reauthorisation")) == 1


@pytest.mark.parametrize("channel", ["shopee", "lazada"])
async def test_a_refresh_token_spent_by_a_killed_process_is_recovered_by_authorising_again(
    make_harness: MakeHarness, channel: str
) -> None:
    """Shopee's and Lazada's refresh tokens are single-use: an engine SIGKILLed after the
    platform answered a refresh, before the new pair was stored, leaves the store a dead
    refresh token. The account stops as ``needs_reauth`` (nothing is read, nothing
    dropped); once the merchant approves the app again (``Sandbox.authorise_again``, what
    the chaos kit does as the operator) and the config carries the new pair,
    ``reauthorise`` resumes it and the orders placed meanwhile are read."""
    harness = await make_harness(platform_account(channel), Account(OTHER))
    engine = harness.engine
    await seed(harness, SKU_RED_M)
    await engine.set_stock(SKU_RED_M, 20)
    await engine.push()
    assert not (await engine.poll_orders(GONE)).stopped
    sandbox = harness.sandboxes[GONE]
    with sandbox.lock:  # spent by the killed process, whose new pair nobody stored
        for grant in sandbox.grants.refresh.values():  # type: ignore[attr-defined]
            grant.used = True
    sandbox.expire_access_tokens()  # type: ignore[attr-defined]
    await harness.controls[GONE].place_order(
        [(SKU_RED_M, 1)], customer={"name": "Lê Thị Hồng", "phone": "0912345678"}
    )
    assert (await engine.poll_orders(GONE)).stopped
    assert status(harness, GONE) is AccountStatus.NEEDS_REAUTH
    assert not [o for o in harness.store.iter_orders() if o.account == GONE]

    sandbox.authorise_again()
    accounts = [platform_account(channel), Account(OTHER)]
    accounts[0].sandbox, accounts[1].sandbox = sandbox, harness.sandboxes[OTHER]
    config = engine_config(engine.config.store.url, accounts, allocation="shared")
    transports = {
        name: httpx.ASGITransport(app=box.app) for name, box in harness.sandboxes.items()
    }
    async with Engine(
        config, plugins=engine.plugins, store=harness.store, transports=transports
    ) as operator:
        await operator.reauthorise(GONE)
    assert status(harness, GONE) is AccountStatus.ACTIVE
    assert not (await engine.poll_orders(GONE)).stopped
    assert [o.order.customer for o in harness.store.iter_orders() if o.account == GONE]
