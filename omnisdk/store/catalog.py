"""The master catalog: products, their variants (keyed by SKU) and locations."""

from __future__ import annotations

import uuid
from collections.abc import Generator
from typing import Any

from sqlalchemy import Connection, Row, case, delete, select

from omnisdk.errors import StoreError
from omnisdk.models import Location, Product, Variant
from omnisdk.store.core import StoreCore
from omnisdk.store.documents import content_hash, to_document
from omnisdk.store.records import ProductSaved, StoredLocation, StoredProduct, StoredVariant
from omnisdk.store.schema import locations, products, variants

__all__ = ["CatalogMixin"]


def _stored_variant(row: Row[Any]) -> StoredVariant:
    return StoredVariant(
        sku=row.sku,
        product_id=row.product_id,
        position=row.position,
        variant=Variant.model_validate(row.document),
        content_hash=row.content_hash,
        updated_at=row.updated_at,
    )


def _assemble(product_row: Row[Any], variant_documents: list[dict[str, Any]]) -> StoredProduct:
    product = Product.model_validate({**product_row.document, "variants": variant_documents})
    return StoredProduct(
        id=product_row.id,
        product=product,
        content_hash=product_row.content_hash,
        created_at=product_row.created_at,
        updated_at=product_row.updated_at,
    )


class CatalogMixin(StoreCore):
    """Saving and reading products, variants and locations."""

    def upsert_product(
        self, product: Product, *, product_id: str | None = None, session: Connection | None = None
    ) -> ProductSaved:
        """Save ``product`` and its variants; report what changed.

        Without ``product_id`` the product is the one that already holds its SKUs (a new id
        is made when none does). A SKU held by another product moves to this one; variants
        of this product missing from ``product`` are removed (``removed_skus``).
        """
        skus = product.skus
        now = self.now()
        with self._tx(session) as connection:
            # Concurrent saves of the same SKUs must not each invent a product for them.
            self._lock_keys(connection, "sku", skus)
            known = {
                row.sku: row
                for row in connection.execute(
                    select(variants.c.sku, variants.c.product_id, variants.c.content_hash).where(
                        variants.c.sku.in_(skus)
                    )
                )
            }
            if product_id is None:
                owners = sorted({row.product_id for row in known.values()})
                if len(owners) > 1:
                    raise StoreError(
                        f"the SKUs of product {product.title!r} belong to several products "
                        f"({', '.join(owners)}): pass product_id to say which one this is"
                    )
                product_id = owners[0] if owners else uuid.uuid4().hex
            document = to_document(product, exclude={"variants"})
            digest = content_hash(document)
            previous = connection.execute(
                select(products.c.content_hash).where(products.c.id == product_id)
            ).scalar_one_or_none()
            row = {
                "title": product.title,
                "status": product.status.value,
                "document": document,
                "content_hash": digest,
            }
            insert = self._insert(products).values(
                id=product_id, created_at=now, updated_at=now, **row
            )
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=[products.c.id],
                    set_={
                        **row,
                        "updated_at": case(
                            (products.c.content_hash == digest, products.c.updated_at), else_=now
                        ),
                    },
                )
            )
            changed: list[str] = []
            for position, variant in enumerate(product.variants):
                variant_document = to_document(variant)
                variant_digest = content_hash(variant_document)
                before = known.get(variant.sku)
                if (
                    before is None
                    or before.content_hash != variant_digest
                    or before.product_id != product_id
                ):
                    changed.append(variant.sku)
                values = {
                    "product_id": product_id,
                    "position": position,
                    "price_minor": variant.price.to_minor(),
                    "currency": variant.price.currency,
                    "status": variant.status.value,
                    "document": variant_document,
                    "content_hash": variant_digest,
                }
                insert = self._insert(variants).values(sku=variant.sku, updated_at=now, **values)
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=[variants.c.sku],
                        set_={
                            **values,
                            "updated_at": case(
                                (variants.c.content_hash == variant_digest, variants.c.updated_at),
                                else_=now,
                            ),
                        },
                    )
                )
            removed = (
                connection.execute(
                    delete(variants)
                    .where(variants.c.product_id == product_id, variants.c.sku.not_in(skus))
                    .returning(variants.c.sku)
                )
                .scalars()
                .all()
            )
            # A product whose every SKU moved here has no variants left: it was absorbed.
            emptied = {row.product_id for row in known.values()} - {product_id}
            if emptied:
                connection.execute(
                    delete(products).where(
                        products.c.id.in_(emptied),
                        ~select(variants.c.sku)
                        .where(variants.c.product_id == products.c.id)
                        .exists(),
                    )
                )
        return ProductSaved(
            product_id=product_id,
            created=previous is None,
            product_changed=previous != digest,
            changed_skus=tuple(changed),
            removed_skus=tuple(sorted(removed)),
        )

    def get_product(
        self, product_id: str, *, session: Connection | None = None
    ) -> StoredProduct | None:
        """The product ``product_id`` with its variants, or None."""
        with self._read(session) as connection:
            product_row = connection.execute(
                select(products).where(products.c.id == product_id)
            ).one_or_none()
            if product_row is None:
                return None
            documents = (
                connection.execute(
                    select(variants.c.document)
                    .where(variants.c.product_id == product_id)
                    .order_by(variants.c.position)
                )
                .scalars()
                .all()
            )
        return _assemble(product_row, list(documents))

    def get_variant(self, sku: str, *, session: Connection | None = None) -> StoredVariant | None:
        """The variant with ``sku``, or None."""
        with self._read(session) as connection:
            row = connection.execute(select(variants).where(variants.c.sku == sku)).one_or_none()
        return None if row is None else _stored_variant(row)

    def iter_products(
        self, *, batch_size: int = 500, session: Connection | None = None
    ) -> Generator[StoredProduct, None, None]:
        """Every product with its variants, by id, streamed (``batch_size`` rows per fetch)."""
        query = (
            select(
                products.c.id,
                products.c.document,
                products.c.content_hash,
                products.c.created_at,
                products.c.updated_at,
                variants.c.document.label("variant_document"),
            )
            .join_from(products, variants, variants.c.product_id == products.c.id, isouter=True)
            .order_by(products.c.id, variants.c.position)
        )
        current: Row[Any] | None = None
        documents: list[dict[str, Any]] = []
        for row in self._stream(query, session=session, batch_size=batch_size):
            if current is not None and row.id != current.id:
                yield _assemble(current, documents)
                documents = []
            current = row
            if row.variant_document is not None:
                documents.append(row.variant_document)
        if current is not None:
            yield _assemble(current, documents)

    def iter_variants(
        self, *, batch_size: int = 500, session: Connection | None = None
    ) -> Generator[StoredVariant, None, None]:
        """Every variant, by SKU, streamed (``batch_size`` rows per fetch)."""
        query = select(variants).order_by(variants.c.sku)
        for row in self._stream(query, session=session, batch_size=batch_size):
            yield _stored_variant(row)

    def upsert_location(self, location: Location, *, session: Connection | None = None) -> None:
        """Save ``location`` under its code (replacing what was stored)."""
        now = self.now()
        values = {
            "name": location.name,
            "kind": location.kind.value,
            "pickup": location.pickup,
            "active": location.active,
            "document": to_document(location),
            "updated_at": now,
        }
        with self._tx(session) as connection:
            insert = self._insert(locations).values(code=location.code, **values)
            connection.execute(
                insert.on_conflict_do_update(index_elements=[locations.c.code], set_=values)
            )

    def get_location(
        self, code: str, *, session: Connection | None = None
    ) -> StoredLocation | None:
        """The location with ``code``, or None."""
        with self._read(session) as connection:
            row = connection.execute(
                select(locations.c.document, locations.c.updated_at).where(locations.c.code == code)
            ).one_or_none()
        if row is None:
            return None
        return StoredLocation(
            location=Location.model_validate(row.document), updated_at=row.updated_at
        )

    def list_locations(
        self, *, active_only: bool = False, session: Connection | None = None
    ) -> list[Location]:
        """Every location, by code (only active ones with ``active_only``)."""
        query = select(locations.c.document).order_by(locations.c.code)
        if active_only:
            query = query.where(locations.c.active.is_(True))
        with self._read(session) as connection:
            return [
                Location.model_validate(document)
                for document in connection.execute(query).scalars()
            ]
