"""Bindings: which channel object (external id) is which canonical object, per account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, delete, select

from omnisdk.store.core import StoreCore
from omnisdk.store.errors import BindingConflict
from omnisdk.store.records import BindingKind
from omnisdk.store.schema import bindings

__all__ = ["BindingsMixin"]


class BindingsMixin(StoreCore):
    """Mapping canonical ids to channel ids and back; unique in both directions."""

    def bind(
        self,
        account: str,
        kind: BindingKind | str,
        canonical_id: str,
        external_id: str,
        *,
        replace: bool = False,
        session: Connection | None = None,
    ) -> bool:
        """Record that ``external_id`` on ``account`` is ``canonical_id`` (of ``kind``).

        Returns True when the binding was created, False when it already existed. When the
        canonical id is bound to another external id (or the external id to another
        canonical id) this raises :class:`BindingConflict`, unless ``replace`` is True:
        then those bindings are removed first (a listing re-created on the channel).
        """
        kind = BindingKind(kind)
        if not canonical_id or not external_id:
            raise ValueError("a binding needs a canonical id and an external id")
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            same_kind = (bindings.c.account_id == account_id) & (bindings.c.kind == kind.value)
            if replace:
                connection.execute(
                    delete(bindings).where(
                        same_kind,
                        (
                            (bindings.c.canonical_id == canonical_id)
                            & (bindings.c.external_id != external_id)
                        )
                        | (
                            (bindings.c.external_id == external_id)
                            & (bindings.c.canonical_id != canonical_id)
                        ),
                    )
                )
            created = connection.execute(
                self._insert(bindings)
                .values(
                    account_id=account_id,
                    kind=kind.value,
                    canonical_id=canonical_id,
                    external_id=external_id,
                    created_at=self.now(),
                )
                .on_conflict_do_nothing()
                .returning(bindings.c.id)
            ).first()
            if created is not None:
                return True
            existing = connection.execute(
                select(bindings.c.canonical_id, bindings.c.external_id).where(
                    same_kind,
                    (bindings.c.canonical_id == canonical_id)
                    | (bindings.c.external_id == external_id),
                )
            ).all()
            if any(
                row.canonical_id == canonical_id and row.external_id == external_id
                for row in existing
            ):
                return False
            taken = ", ".join(f"{row.canonical_id!r} <-> {row.external_id!r}" for row in existing)
            raise BindingConflict(
                f"{account}: cannot bind {kind.value} {canonical_id!r} to {external_id!r}: "
                f"already bound {taken} (pass replace=True to re-bind)"
            )

    def unbind(
        self,
        account: str,
        kind: BindingKind | str,
        canonical_id: str,
        *,
        session: Connection | None = None,
    ) -> bool:
        """Remove the binding of ``canonical_id``; True if there was one."""
        kind = BindingKind(kind)
        with self._tx(session) as connection:
            account_id = self._account_id(connection, account)
            return (
                connection.execute(
                    delete(bindings).where(
                        bindings.c.account_id == account_id,
                        bindings.c.kind == kind.value,
                        bindings.c.canonical_id == canonical_id,
                    )
                ).rowcount
                == 1
            )

    def external_id_for(
        self,
        account: str,
        kind: BindingKind | str,
        canonical_id: str,
        *,
        session: Connection | None = None,
    ) -> str | None:
        """The channel's id for ``canonical_id`` on ``account``, or None when unbound."""
        return self._bound(
            account, kind, bindings.c.canonical_id, canonical_id, bindings.c.external_id, session
        )

    def canonical_id_for(
        self,
        account: str,
        kind: BindingKind | str,
        external_id: str,
        *,
        session: Connection | None = None,
    ) -> str | None:
        """The canonical id bound to the channel's ``external_id``, or None."""
        return self._bound(
            account, kind, bindings.c.external_id, external_id, bindings.c.canonical_id, session
        )

    def _bound(
        self,
        account: str,
        kind: BindingKind | str,
        given: Column[Any],
        value: str,
        wanted: Column[Any],
        session: Connection | None,
    ) -> str | None:
        """One side of a binding looked up by the other."""
        kind = BindingKind(kind)
        with self._read(session) as connection:
            account_id = self._account_id(connection, account)
            found = connection.execute(
                select(wanted).where(
                    bindings.c.account_id == account_id,
                    bindings.c.kind == kind.value,
                    given == value,
                )
            ).scalar_one_or_none()
            return None if found is None else str(found)

    def bindings_of(
        self, account: str, kind: BindingKind | str, *, session: Connection | None = None
    ) -> dict[str, str]:
        """Every binding of ``kind`` on ``account``: canonical id -> external id."""
        kind = BindingKind(kind)
        with self._read(session) as connection:
            account_id = self._account_id(connection, account)
            rows = connection.execute(
                select(bindings.c.canonical_id, bindings.c.external_id).where(
                    bindings.c.account_id == account_id, bindings.c.kind == kind.value
                )
            )
            return {row.canonical_id: row.external_id for row in rows}
