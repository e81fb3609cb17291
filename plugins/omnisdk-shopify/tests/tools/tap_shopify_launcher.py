"""Run tap-shopify against a sandbox: ``python tap_shopify_launcher.py SANDBOX_URL <tap args>``.

Runs inside tap-shopify's own virtualenv (it imports only the tap and its dependencies).
tap-shopify builds its API session from the ``shop`` config the way ShopifyAPI does, so
``Session.setup`` points it at the sandbox (config ``shop`` must be ``"127"``: with the
domain ``0.0.1`` and the port that makes ``127.0.0.1:PORT``). Two calls hard-code
``https://{shop}.myshopify.com`` (the bulk query submission and the client-credentials token
request); they are redirected to the sandbox. Nothing else is changed.
"""

import sys
import urllib.parse

import requests
import shopify
import tap_shopify


def main() -> None:
    """Point the tap at the sandbox URL in ``argv[1]`` and run it with the rest of argv."""
    sandbox = sys.argv.pop(1).rstrip("/")
    address = urllib.parse.urlsplit(sandbox)
    shopify.Session.setup(protocol=address.scheme, myshopify_domain="0.0.1", port=address.port)
    hard_coded = "https://127.myshopify.com"
    real_post = requests.post

    def post(url, *args, **kwargs):  # type: ignore[no-untyped-def]
        if url.startswith(hard_coded):
            url = sandbox + url[len(hard_coded) :]
        return real_post(url, *args, **kwargs)

    requests.post = post
    tap_shopify.main()


if __name__ == "__main__":
    main()
