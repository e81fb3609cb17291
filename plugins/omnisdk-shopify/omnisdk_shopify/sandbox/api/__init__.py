"""The Shopify Admin API areas the sandbox serves: ``graphql/`` (the Admin GraphQL API),
``rest`` (the REST subset the official client uses) with ``rest_views`` (REST-shaped JSON,
also the webhook payloads), ``bulk`` (bulk operations), ``oauth`` (app installs and tokens)
and ``gateway`` (the access and call-limit checks every Admin API request passes).
"""
