"""Searching a catalogue by name, SKU or barcode: an inverted index giving the same answers as
scanning every product, without scanning every product.

A product's *hay* is its SKU, names in every language and barcodes, normalised and joined by
spaces (as ``CatalogueIndex`` has always searched it); a query matches a product when every word
of the query is a substring of its hay. A word holds no whitespace, so it is a substring of the
hay exactly when it is a substring of one of the hay's whitespace-separated *tokens*. The index:

- ``postings``: token → ids of the products whose hay holds it (ascending: catalogue order);
- the tokens without a digit, and the digit-free runs of the tokens with one (``s`` and ``ml`` of
  ``s000123`` and ``330ml``), by their characters and character pairs (``grams``): a word without
  a digit can only sit inside such a run, so its tokens are found by intersecting the lists of
  its pairs (Thai and Chinese names, written without spaces, are found this way too);
- the tokens with a digit (SKUs, barcodes, sizes) joined in one string searched with
  ``str.find`` for a word with a digit (bounded: it stops at ``BROAD_CODES`` tokens).

A word matching no token answers after a few dictionary look-ups; a word matching very many
products (``885``, ``a``) is not expanded but checked against the hays of the candidates the
other words give, or of the products in catalogue order until ``limit`` are found, as before.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence

__all__ = ["SearchIndex", "scan", "BROAD"]

BROAD = 20_000  # a word matching more products than this is checked, not listed
BROAD_CODES = 1_000  # nor one found in more codes (SKUs, barcodes) than this
_DIGITS = re.compile(r"\d+")


def scan(
    hays: Sequence[str | None],
    words: list[str],
    limit: int,
    accept: Callable[[int], bool],
    ids: Iterable[int] | None = None,
) -> list[int]:
    """The first ``limit`` accepted ids whose hay holds every word, checking the hay of each of
    ``ids`` (all, in catalogue order: the search as it was before the index) in turn."""
    out = []
    for i in range(len(hays)) if ids is None else ids:
        hay = hays[i]
        if hay is not None and all(w in hay for w in words) and accept(i):
            out.append(i)
            if len(out) >= limit:
                break
    return out


class SearchIndex:
    """The search index of ``hays`` (``None``: a product replaced since, never found)."""

    def __init__(self, hays: list[str | None]) -> None:
        self.hays = hays
        postings: dict[str, list[int]] = {}
        get = postings.get
        for i, hay in enumerate(hays):
            if hay is None:
                continue
            for tok in set(hay.split()):
                ids = get(tok)
                if ids is None:
                    postings[tok] = [i]
                else:
                    ids.append(i)
        self.postings = postings
        codes: list[str] = []
        runs: dict[str, list[str]] = {}  # a digit-free run or plain token → tokens holding it
        for tok in postings:
            if tok.isdigit():  # a barcode: no run without a digit
                codes.append(tok)
                continue
            if _DIGITS.search(tok) is None:
                runs.setdefault(tok, []).append(tok)
                continue
            codes.append(tok)
            for run in _DIGITS.split(tok):
                if run:
                    runs.setdefault(run, []).append(tok)
        self.runs = runs
        self.terms = list(runs)
        grams: dict[str, list[int]] = {}
        for tid, term in enumerate(self.terms):
            for g in {*term, *(term[j : j + 2] for j in range(len(term) - 1))}:
                lst = grams.get(g)
                if lst is None:
                    grams[g] = [tid]
                else:
                    lst.append(tid)
        self.grams = grams
        self.codes = "\n".join(codes) + "\n"
        self.code_starts = [0]
        for tok in codes[:-1]:
            self.code_starts.append(self.code_starts[-1] + len(tok) + 1)
        self.code_tokens = codes

    def _code_tokens(self, word: str) -> list[str] | None:
        """Tokens with a digit that hold ``word`` (None: more than ``BROAD_CODES``)."""
        found: list[str] = []
        text, starts, find = self.codes, self.code_starts, self.codes.find
        pos = find(word)
        while pos >= 0:
            k = self._code_at(pos)
            found.append(self.code_tokens[k])
            if len(found) > BROAD_CODES:
                return None
            pos = text.find(word, starts[k] + len(self.code_tokens[k]) + 1)
        return found

    def _code_at(self, pos: int) -> int:
        """The code token at ``pos`` in ``codes``."""
        return bisect.bisect_right(self.code_starts, pos) - 1

    def _plain_tokens(self, word: str) -> list[str]:
        """Tokens holding ``word``, a word without a digit."""
        keys = {word} if len(word) == 1 else {word[j : j + 2] for j in range(len(word) - 1)}
        lists = []
        for g in keys:
            lst = self.grams.get(g)
            if lst is None:
                return []
            lists.append(lst)
        lists.sort(key=len)
        cand = set(lists[0])
        for lst in lists[1:]:
            if len(lst) > 8 * len(cand):
                break  # the check below is cheaper than intersecting a long list
            cand.intersection_update(lst)
        terms, runs = self.terms, self.runs
        out: list[str] = []
        for tid in cand:
            term = terms[tid]
            if word in term:
                out.extend(runs[term])
        return out

    def matches(self, word: str) -> tuple[set[int] | None, int]:
        """Ids of the products whose hay holds ``word`` (None: more than ``BROAD``), and the
        first id that can hold it."""
        if _DIGITS.search(word) is None:
            toks: list[str] | None = self._plain_tokens(word)
        else:
            toks = self._code_tokens(word)
        if toks is None:  # codes are kept in the order they first appear in the catalogue
            pos = self.codes.find(word)
            return None, self.postings[self.code_tokens[self._code_at(pos)]][0]
        lists = [self.postings[t] for t in set(toks)]
        if sum(map(len, lists)) > BROAD:
            return None, min(lst[0] for lst in lists)
        out: set[int] = set()
        for lst in lists:
            out.update(lst)
        return out, 0

    def search(self, words: list[str], limit: int, accept: Callable[[int], bool]) -> list[int]:
        """The same ids as ``scan(self.hays, words, limit, accept)``."""
        narrow: list[set[int]] = []
        broad: list[str] = []
        start = 0
        for w in dict.fromkeys(words):
            ids, first = self.matches(w)
            if ids is None:
                broad.append(w)
                start = max(start, first)
            elif not ids:
                return []
            else:
                narrow.append(ids)
        if not narrow:
            return scan(self.hays, broad, limit, accept, range(start, len(self.hays)))
        narrow.sort(key=len)
        cand = narrow[0]
        for ids in narrow[1:]:
            cand = cand & ids
        return scan(self.hays, broad, limit, accept, sorted(cand))
