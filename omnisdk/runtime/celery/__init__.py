"""The scale-out runtime: the engine's operations as Celery tasks, on a shared PostgreSQL store.

Install it with ``pip install 'omnisdk[celery]'``. The processes (see the operations guide,
``docs/guide/celery.md``):

- ``omnisdk worker`` (``celery -A omnisdk.runtime.celery.app worker``): runs the tasks of
  :mod:`~omnisdk.runtime.celery.tasks`, as many processes and machines as needed;
- ``omnisdk beat`` (``celery ... beat``): one per deployment, enqueues the schedule
  :mod:`~omnisdk.runtime.celery.schedule` builds from the config;
- ``omnisdk webhooks``: the webhook receiver; each verified delivery becomes a task;
- ``omnisdk metrics``: the one Prometheus ``/metrics`` endpoint
  (:mod:`~omnisdk.runtime.celery.metrics`).

Correctness rests on the database (conditional updates, unique keys, advisory locks) and on
idempotent tasks, never on a task running exactly once. Rate budgets are shared by every worker
through Redis (:mod:`~omnisdk.runtime.celery.budgets`).
"""
