"""BM25 whose statistics are each transcript's own, so that other transcripts change no score.

bm25s (and every BM25 library we know) computes inverse document frequencies and the average
length over the whole collection. Then adding a transcript about gardening changes how rare
"heroin" is, every score of the interview moves, and so can its top answer. Here a document's
score uses only the documents of its own group (its transcript): the term frequencies come from
bm25s's tokenizer (PyStemmer stems, English stop words), the scoring is the BM25 formula over a
sparse matrix, grouped. Scores are divided by the sum of the question words' IDFs in the group,
so a passage with every word of the question once, at average length, scores about 1, and a
word the transcript never uses lowers every passage of it (it counts as rarest).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

K1, B = 1.5, 0.75  # the usual BM25 constants, as bm25s's defaults
# The arrays of an index: term frequencies (documents by term, by column), document frequencies
# (groups by term, by column), each group's size, each document's group and length norm.
ARRAYS = ("tf_data", "tf_indices", "tf_indptr", "df_data", "df_indices", "df_indptr", "n", "group",
          "norm")


def _tokenizer() -> Any:
    import bm25s
    import Stemmer

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s.tokenization.Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")


class GroupedBM25:
    """BM25 over documents in groups, each group scored with its own statistics.

    Args:
        documents: the texts.
        groups: the group of each document (any hashable, e.g. the transcript's name).
    """

    def __init__(self, documents: Sequence[str], groups: Sequence[object]) -> None:
        import scipy.sparse as sparse

        tokenizer = _tokenizer()
        ids = tokenizer.tokenize(list(documents) or [""], return_as="ids", show_progress=False)
        vocab = max((max(d) for d in ids if d), default=0) + 1
        rows = np.repeat(np.arange(len(ids)), [len(d) for d in ids])
        cols = np.fromiter((t for d in ids for t in d), dtype=np.int64, count=len(rows))
        tf = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                               shape=(len(ids), vocab))
        tf.sum_duplicates()
        names = {g: i for i, g in enumerate(dict.fromkeys(groups))}
        group = np.array([names[g] for g in groups] or [0], dtype=np.int64)
        member = sparse.csr_matrix((np.ones(len(group), np.float32), (group, np.arange(len(group)))),
                                   shape=(max(len(names), 1), len(ids)))
        df = (member @ (tf > 0).astype(np.float32)).tocsc()
        n = np.asarray(member.sum(axis=1)).ravel()
        length = np.asarray(tf.sum(axis=1)).ravel()
        mean = np.asarray(member @ length).ravel() / np.maximum(n, 1)
        tf = tf.tocsc()
        arrays = {"tf_data": tf.data, "tf_indices": tf.indices, "tf_indptr": tf.indptr,
                  "df_data": df.data, "df_indices": df.indices, "df_indptr": df.indptr,
                  "n": n, "group": group,
                  "norm": K1 * (1 - B + B * length / np.maximum(mean[group], 1e-9))}
        self._set(arrays, tokenizer, len(documents), tokenizer.word_to_id.get("", -1))

    def _set(self, arrays: Mapping[str, np.ndarray], tokenizer: Any, size: int, empty: int) -> None:
        self.arrays = dict(arrays)  # what ``lexical_files`` saves, and loads memory-mapped
        self.tokenizer, self.size, self.empty = tokenizer, size, empty
        self.tf_data, self.tf_indices, self.tf_indptr = (arrays["tf_data"], arrays["tf_indices"],
                                                         arrays["tf_indptr"])
        self.df_data, self.df_indices, self.df_indptr = (arrays["df_data"], arrays["df_indices"],
                                                         arrays["df_indptr"])
        self.n, self.group, self.norm = arrays["n"], arrays["group"], arrays["norm"]
        self.vocab = len(self.tf_indptr) - 1

    def meta(self) -> dict[str, Any]:
        """What besides ``arrays`` a copy needs: the vocabulary (stem ids) and the counts."""
        return {"size": self.size, "empty": self.empty, "stem_to_sid": self.tokenizer.stem_to_sid}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> GroupedBM25:
        """The index ``arrays`` and ``meta`` describe (as saved): scores the same to the last bit.

        Raises:
            ValueError: they do not fit together (a damaged or foreign file).
        """
        missing = set(ARRAYS) - set(arrays)
        if missing:
            raise ValueError(f"missing BM25 arrays: {sorted(missing)}")
        size, vocab = int(meta["size"]), len(arrays["tf_indptr"]) - 1
        groups = len(arrays["n"])
        docs = max(size, 1)
        stems = meta["stem_to_sid"]
        if not isinstance(stems, dict) or len(arrays["df_indptr"]) != vocab + 1 \
                or len(arrays["norm"]) != docs or len(arrays["group"]) != docs \
                or len(arrays["tf_data"]) != len(arrays["tf_indices"]) \
                or len(arrays["df_data"]) != len(arrays["df_indices"]) \
                or int(arrays["tf_indptr"][-1]) != len(arrays["tf_indices"]) \
                or int(arrays["df_indptr"][-1]) != len(arrays["df_indices"]) \
                or any(not isinstance(t, int) or t < 0 for t in stems.values()) \
                or (size and groups and not 0 <= int(arrays["group"].max()) < groups):
            raise ValueError("the BM25 arrays do not fit together")
        tokenizer = _tokenizer()
        tokenizer.stem_to_sid = dict(stems)
        self = cls.__new__(cls)
        self._set(arrays, tokenizer, size, int(meta["empty"]))
        return self

    def question_terms(self, question: str) -> tuple[list[int], int]:
        """The ids of the question's known words (stems), each once, and how many of its words
        no document has: those count in the normaliser as the rarest words, so that what other
        transcripts happen to contain changes nothing here."""
        tok = self.tokenizer
        stop = set(tok.stopwords or ())
        stems = {tok.stemmer(w) for w in tok.splitter(question.lower()) if w not in stop}
        known = {s: tok.stem_to_sid[s] for s in stems if s in tok.stem_to_sid}
        known = {s: t for s, t in known.items() if t != self.empty}
        # In the order of the stems, not of their ids: the ids depend on what else was indexed,
        # and summing in the same order makes a transcript's scores the same to the last bit
        # whether it is indexed alone (the Milvus store) or with others (the FAISS store).
        terms = [known[s] for s in sorted(known)]
        return [t for t in terms if t < self.vocab], len(stems) - len(known)

    def idf(self, term: int) -> np.ndarray:
        """The term's IDF in every group."""
        df = np.zeros(len(self.n), dtype=self.df_data.dtype)
        lo, hi = self.df_indptr[term], self.df_indptr[term + 1]
        df[self.df_indices[lo:hi]] = self.df_data[lo:hi]
        return np.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def scores(self, question: str) -> np.ndarray:
        """Every document's BM25 against the question over the sum of the question's IDFs in
        the document's group: about 0 to 1, the same whatever else is in the collection."""
        out = np.zeros(self.size, dtype=np.float32)
        terms, unknown = self.question_terms(question)
        if not terms or not self.size:
            return out
        # In float64, where these sums of float32 IDFs are exact, so that a word the group lacks
        # weighs the same to the last bit whether other groups know it (a term here) or not.
        total = unknown * np.log(1 + (self.n + 0.5) / 0.5).astype(np.float64)
        for term in terms:
            idf = self.idf(term)
            total += idf.astype(np.float64)
            lo, hi = self.tf_indptr[term], self.tf_indptr[term + 1]
            docs, counts = self.tf_indices[lo:hi], self.tf_data[lo:hi]
            out[docs] += idf[self.group[docs]] * counts * (K1 + 1) / (counts + self.norm[docs])
        return out / np.maximum(total[self.group[: self.size]], 1e-9).astype(np.float32)
