"""The catalogue's search index answers exactly what checking every product answers (the search
as it was), in every script, and a word matching nothing is answered without looking at any
product."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.catalogue import CatalogueIndex, Product, ean_check_digit, normalise
from domain.catalogue_rows import product_row, product_trusted

LETTERS = "abcoklmsxyzABC"  # few letters: random words often match
THAI = "กขคโล่าชาเขียว"
CJK = "可乐绿茶牛奶面包"
ARABIC = "شايحليبخبز"
DIGITS = "0123456789"
ALPHABET = LETTERS + THAI + CJK + ARABIC + DIGITS + "-()"


def old_search(index: CatalogueIndex, query: str, limit: int, sellable_only: bool) -> list[str]:
    """The search before the index, as it was written: every product's hay in catalogue order."""
    q = normalise(query)
    if not q:
        return []
    words = q.split()
    out = []
    exact = index.by_sku.get(query.strip())
    if exact is not None:
        out.append(exact)
    for p in (p for p in index._items if p is not None):
        hay = normalise(" ".join([p.sku, *p.names.values(), *p.barcodes]))
        if all(w in hay for w in words):
            if p is exact or (sellable_only and not p.sellable):
                continue
            out.append(p)
            if len(out) >= limit:
                break
    return [p.sku for p in out]


def barcode(n: int) -> str:
    body = f"885{n:09d}"
    return body + ean_check_digit(body)


words = st.text(alphabet=ALPHABET, min_size=1, max_size=6)
names = st.lists(words, min_size=1, max_size=3).map(" ".join)


@st.composite
def catalogues(draw: st.DrawFn) -> list[Product]:
    n = draw(st.integers(1, 40))
    out = []
    for i in range(n):
        langs = draw(st.lists(st.sampled_from(["en", "th", "zh", "ar"]), min_size=1, unique=True))
        out.append(
            Product(
                sku=draw(st.sampled_from(["S", "P-", "X"]))
                + str(draw(st.integers(0, 999)))
                + f"{i}",
                names={lang: draw(names) for lang in langs},
                price=100,
                barcodes=tuple(
                    barcode(draw(st.integers(0, 10**6))) for _ in range(draw(st.integers(0, 2)))
                ),
                sellable=draw(st.booleans()),
            )
        )
    return out


def queries_for(products: list[Product]) -> st.SearchStrategy[str]:
    """Words cut from the products' own names and codes (so many match), and random words."""
    pieces = [t for p in products for t in (p.sku, *p.names.values(), *p.barcodes)]
    cut = st.builds(
        lambda s, a, b: s[min(a, b) : max(a, b) + 1],
        st.sampled_from(pieces),
        st.integers(0, 12),
        st.integers(0, 12),
    )
    return st.lists(st.one_of(cut, words), min_size=1, max_size=3).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_index_answers_what_a_scan_of_every_product_answers(data: st.DataObject) -> None:
    products = data.draw(catalogues())
    index = CatalogueIndex(products)
    for _ in range(5):
        query = data.draw(queries_for(products))
        limit = data.draw(st.integers(2, 8))
        sellable = data.draw(st.booleans())
        got = [p.sku for p in index.search(query, limit, sellable)]
        assert got == old_search(index, query, limit, sellable), query


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_after_products_are_replaced_and_removed_the_index_still_agrees(
    data: st.DataObject,
) -> None:
    products = data.draw(catalogues())
    index = CatalogueIndex(products)
    index.search("a")  # built, then changed: built again at the next search
    for p in data.draw(st.lists(st.sampled_from(products), max_size=5)):
        index.put(dataclasses.replace(p, names={"en": data.draw(names)}))
    for p in data.draw(st.lists(st.sampled_from(products), max_size=3)):
        index.remove(p.sku)
    query = data.draw(queries_for(products))
    got = [p.sku for p in index.search(query, 6)]
    assert got == old_search(index, query, 6, False)
    assert got == [p.sku for p in index.search(query, 6, linear=True)]


def sample_index() -> CatalogueIndex:
    return CatalogueIndex(
        [
            Product(
                "COLA-1",
                {"en": "Lotus Cola small", "th": "โคล่า โลตัส", "zh": "莲花可乐(小)"},
                1500,
                barcodes=(barcode(1),),
            ),
            Product(
                "TEA-2", {"en": "Green tea", "th": "ชาเขียว", "zh": "绿茶", "ar": "شاي أخضر"}, 2000
            ),
            Product("S000330", {"en": "Soda 330ml"}, 900),
        ]
    )


def test_words_in_any_order_any_language_and_inside_unspaced_names() -> None:
    index = sample_index()
    assert [p.sku for p in index.search("small cola")] == ["COLA-1"]
    assert [p.sku for p in index.search("可乐")] == ["COLA-1"]  # inside 莲花可乐(小)
    assert [p.sku for p in index.search("เขียว")] == ["TEA-2"]  # inside ชาเขียว
    assert [p.sku for p in index.search("أخضر")] == ["TEA-2"]
    assert [p.sku for p in index.search("ola")] == ["COLA-1"]  # inside a word, as before
    assert [p.sku for p in index.search("ml")] == ["S000330"]  # letters beside digits
    assert [p.sku for p in index.search("0330")] == ["S000330"]
    assert [p.sku for p in index.search(barcode(1)[-5:])] == ["COLA-1"]


class Watched(list):
    """A product list that counts how often a search reads it."""

    reads = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        Watched.reads += 1
        return super().__iter__()

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        Watched.reads += 1
        return super().__getitem__(i)


def test_a_word_matching_nothing_reads_no_product() -> None:
    index = sample_index()
    search = index.prepare_search()
    search.hays = Watched(search.hays)
    Watched.reads = 0
    for miss in ("zzzz", "cola zzzz", "可乐x", "โคล่าก", "99999", "S000331"):
        assert index.search(miss) == []
    assert Watched.reads == 0


def test_stored_rows_come_back_as_the_same_products() -> None:
    products = [
        *sample_index().by_sku.values(),
        Product(
            "W",
            {"en": "Mango"},
            5000,
            unit="kg",
            plu="00123",
            sellable=False,
            low_stock=3,
            favourite=True,
            image="m.png",
            merge=False,
            tax_class="zero",
            category="fruit",
        ),
    ]
    for p in products:
        assert product_trusted(product_row(p)) == p
        assert len(product_row(p)) <= len(p.to_dict())
