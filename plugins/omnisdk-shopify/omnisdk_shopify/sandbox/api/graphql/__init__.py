"""The Admin GraphQL API: ``admin_schema.graphql`` made executable by ``schema``, run by
``execute`` under the ``cost`` throttle; resolvers in ``queries`` (QueryRoot), ``types``
(object fields), ``inventory``, ``variants``, ``orders`` and ``webhooks`` (mutations), with
``context``, ``paging`` (Relay connections) and ``search`` (Shopify's search syntax).
"""
