"""What gets indexed for each product and category, and how much each field counts.

A product is found by its names first, then (less) by its category's names and synonyms, its
parent category's names and its SKU specs (tyre sizes, oil grades). A category is found by its
names, then its synonyms, then its parent's names, so "汽车服务" finds every auto service.
Only leaf service categories are indexed: a group has no stores of its own.
"""

from typing import NamedTuple

from daodian.search.index import Doc
from daodian.search.repository import ProductText
from daodian.search.synonyms import PRODUCT_SYNONYMS, SERVICE_SYNONYMS
from daodian.search.text import document_tokens, exact_forms

PRODUCT, PRODUCT_CATEGORY, SERVICE_CATEGORY = "product", "product_category", "service_category"

NAME, SYNONYM, CATEGORY, PARENT, SPEC = 1.0, 0.7, 0.5, 0.3, 0.3


class Cat(NamedTuple):
    """A category as the index remembers it (the trees change only with a deploy)."""

    id: int
    code: str
    name_zh: str
    name_en: str
    level: int
    parent_id: int | None


def _merge(into: dict[str, float], tokens: dict[str, float]) -> None:
    for token, weight in tokens.items():
        into[token] = into.get(token, 0.0) + weight


def _names(cat: Cat, weight: float) -> dict[str, float]:
    tokens: dict[str, float] = {}
    _merge(tokens, document_tokens(cat.name_zh, weight))
    _merge(tokens, document_tokens(cat.name_en, weight))
    return tokens


def category_doc(kind: str, cat: Cat, parent: Cat | None) -> Doc:
    synonyms = (PRODUCT_SYNONYMS if kind == PRODUCT_CATEGORY else SERVICE_SYNONYMS).get(cat.code, ())
    tokens = _names(cat, NAME)
    for synonym in synonyms:
        _merge(tokens, document_tokens(synonym, SYNONYM))
    if parent is not None:
        _merge(tokens, _names(parent, PARENT))
    exact = set().union(*(exact_forms(t) for t in (cat.name_zh, cat.name_en, *synonyms)))
    return Doc((kind, cat.id), tokens, frozenset(exact), payload=cat)


def product_doc(product: ProductText, categories: dict[int, Cat]) -> Doc:
    tokens = document_tokens(product.name_zh, NAME)
    _merge(tokens, document_tokens(product.name_en or "", NAME))
    category = categories.get(product.category_id)
    if category is not None:
        _merge(tokens, _names(category, CATEGORY))
        for synonym in PRODUCT_SYNONYMS.get(category.code, ()):
            _merge(tokens, document_tokens(synonym, CATEGORY * SYNONYM))
        parent = categories.get(category.parent_id) if category.parent_id else None
        if parent is not None:
            _merge(tokens, _names(parent, PARENT * CATEGORY))
    for spec in product.specs:
        _merge(tokens, document_tokens(spec, SPEC))
    exact = exact_forms(product.name_zh) | exact_forms(product.name_en or "")
    return Doc((PRODUCT, product.id), tokens, frozenset(exact), payload=product.category_id)
